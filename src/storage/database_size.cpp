#include "storage/database_size.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "storage/open_store.hpp"

namespace evolveai::storage {
namespace {

std::uintmax_t sqlite_size(const std::filesystem::path& path) {
  std::uintmax_t total = 0;
  for (const auto* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    const auto bytes = std::filesystem::file_size(path.string() + suffix, error);
    if (!error) {
      total += bytes;
    }
  }
  return total;
}

std::uintmax_t postgres_size(const std::string& url, std::chrono::seconds connect_timeout) {
  const std::string timeout = std::to_string(std::max<std::int64_t>(connect_timeout.count(), 1));
  // expand_dbname = 1: the URL is read as a connection string, its own keys win over the timeout.
  const std::vector<const char*> keys{"connect_timeout", "dbname", nullptr};
  const std::vector<const char*> values{timeout.c_str(), url.c_str(), nullptr};
  const std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys.data(), values.data(), 1), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(conn ? PQerrorMessage(conn.get()) : "out of memory");
  }
  const std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexec(conn.get(), "SELECT pg_database_size(current_database())"), &PQclear);
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) {
    throw std::runtime_error(PQerrorMessage(conn.get()));
  }
  const std::string_view text = PQgetvalue(result.get(), 0, 0);
  std::uintmax_t bytes = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error("unexpected pg_database_size value");
  }
  return bytes;
}

}  // namespace

std::uintmax_t database_size_bytes(const std::string& url, std::chrono::seconds connect_timeout) {
  if (const auto path = sqlite_path_from_url(url)) {
    return sqlite_size(*path);
  }
  if (is_postgres_url(url)) {
    return postgres_size(url, connect_timeout);
  }
  throw std::runtime_error("database.url must start with sqlite:// or postgresql://");
}

}  // namespace evolveai::storage

#include "storage/open_store.hpp"

#include <stdexcept>
#include <utility>

#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace evolveai::storage {

std::optional<std::filesystem::path> sqlite_path_from_url(std::string_view url) {
  constexpr std::string_view kScheme = "sqlite://";
  if (!url.starts_with(kScheme) || url.size() == kScheme.size())
    return std::nullopt;
  return std::filesystem::path(std::string(url.substr(kScheme.size())));
}

bool is_postgres_url(std::string_view url) noexcept {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

std::unique_ptr<Store> open_store(StoreSettings settings, net::BlockingPool& blocking,
                                  boost::asio::any_io_executor io) {
  if (auto path = sqlite_path_from_url(settings.url)) {
    sqlite::SqliteStoreOptions options;
    options.path = std::move(*path);
    options.readers = settings.pool_size;
    options.busy_timeout = settings.busy_timeout;
    options.clock = std::move(settings.clock);
    options.observer = std::move(settings.observer);
    return std::make_unique<sqlite::SqliteStore>(std::move(options), blocking);
  }
  if (is_postgres_url(settings.url)) {
    postgres::PgStoreOptions options;
    options.url = std::move(settings.url);
    options.pool.size = settings.pool_size;
    options.pool.acquire_timeout = settings.acquire_timeout;
    options.connect_timeout = settings.connect_timeout;
    options.statement_timeout = settings.statement_timeout;
    options.retry = settings.retry;
    options.clock = std::move(settings.clock);
    options.observer = std::move(settings.observer);
    return std::make_unique<postgres::PgStore>(std::move(options), std::move(io));
  }
  throw std::invalid_argument("database.url must start with sqlite:// or postgresql://");
}

}  // namespace evolveai::storage

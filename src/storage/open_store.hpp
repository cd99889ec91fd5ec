#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/blocking_pool.hpp"
#include "net/retry_policy.hpp"
#include "storage/store.hpp"
#include "storage/store_observer.hpp"

namespace evolveai::storage {

/// What the composition root hands over to open the configured engine.
struct StoreSettings {
  std::string url;            ///< `sqlite://<path>` or `postgresql://…` / `postgres://…`
  std::size_t pool_size = 8;  ///< PostgreSQL connections, or SQLite reader connections
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds acquire_timeout{5000};  ///< PostgreSQL: wait for a free connection
  std::chrono::milliseconds busy_timeout{5000};     ///< SQLite: wait for another process' write lock
  net::RetrySettings retry{3, std::chrono::milliseconds(20), std::chrono::milliseconds(500)};
  Clock clock;  ///< defaults to the system clock
  StoreObserver observer;
};

/// The file of a `sqlite://` URL, or nullopt for any other scheme.
[[nodiscard]] std::optional<std::filesystem::path> sqlite_path_from_url(std::string_view url);
/// True for `postgresql://` and `postgres://` URLs.
[[nodiscard]] bool is_postgres_url(std::string_view url) noexcept;

/// Opens the engine the URL names (without migrating). SQLite runs its calls on
/// `blocking`; PostgreSQL drives its sockets on `io`. Throws std::invalid_argument for an
/// unknown scheme, StoreError when the SQLite file cannot be opened.
[[nodiscard]] std::unique_ptr<Store> open_store(StoreSettings settings, net::BlockingPool& blocking,
                                                boost::asio::any_io_executor io);

}  // namespace evolveai::storage

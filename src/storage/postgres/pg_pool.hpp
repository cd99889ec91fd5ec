#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <vector>

#include "core/task.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/store_observer.hpp"

namespace evolveai::storage::postgres {

/// Limits of the connection pool.
struct PoolSettings {
  std::size_t size = 8;                                 ///< connections at most
  std::chrono::milliseconds acquire_timeout{5000};      ///< wait for a free connection at most this long
  std::chrono::milliseconds health_check_after{30000};  ///< ping a connection idle longer than this before use
  std::chrono::milliseconds call_timeout{30000};        ///< client-side bound of one call
};

/// A bounded pool of connections. Connections are opened on demand, health-checked when
/// they have been idle for long or a sibling was found broken, and dropped when broken or
/// left inside a transaction. All bookkeeping runs on one strand; leases may be returned
/// from any thread.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  /// A borrowed connection, returned to the pool when destroyed.
  class Lease {
   public:
    Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> connection);
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    /// The borrowed connection.
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }

   private:
    std::shared_ptr<Pool> pool_;
    std::unique_ptr<Connection> connection_;
  };

  /// Creates a pool; connections are opened on demand.
  static std::shared_ptr<Pool> create(const boost::asio::any_io_executor& executor, ConnectSettings connect,
                                      PoolSettings settings, const StoreObserver& observer);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// A healthy connection; throws StoreError kTimeout when none frees up in time, kConnect
  /// when a new one cannot be opened.
  Task<Lease> acquire();
  /// Network round trips made by all connections, closed ones included.
  [[nodiscard]] std::uint64_t round_trips() const noexcept { return round_trips_->load(); }

 private:
  Pool(const boost::asio::any_io_executor& executor, ConnectSettings connect, PoolSettings settings,
       const StoreObserver& observer);
  Task<std::unique_ptr<Connection>> take();
  void give_back(std::unique_ptr<Connection> connection);
  void wake_one();
  void report() const;

  boost::asio::any_io_executor executor_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  ConnectSettings connect_;
  PoolSettings settings_;
  StoreObserver observer_;
  /// A `take` waiting for a connection, oldest first. A returned connection is handed straight
  /// to the oldest waiter (`handed`), so waiters are served in order and none is overtaken by a
  /// newcomer that finds the connection idle first.
  struct Waiter {
    boost::asio::steady_timer* timer = nullptr;
    std::unique_ptr<Connection> handed;
    bool woken = false;  ///< taken off `waiters_` by give_back or wake_one
  };
  std::vector<std::unique_ptr<Connection>> idle_;
  std::list<Waiter*> waiters_;
  std::size_t open_ = 0;
  std::size_t in_use_ = 0;
  std::shared_ptr<std::atomic<std::uint64_t>> round_trips_ = std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace evolveai::storage::postgres

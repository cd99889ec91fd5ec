#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

#include "core/task.hpp"

namespace evolveai::net {

/// A bounded pool of threads for blocking work (SQLite, synthesis, hashing), so that
/// no I/O thread ever waits on it. The caller resumes on its own executor afterwards.
class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool() { stop(); }

  /// Runs `work` on the pool and returns its result (or rethrows its exception).
  template <typename F>
  auto run(F work) -> Task<std::invoke_result_t<F&>> {
    using Result = std::invoke_result_t<F&>;
    // Every object is named before co_await: GCC 12 destroys temporaries inside a co_await
    // expression twice, which double-frees whatever the lambda captured.
    auto body = [work = std::move(work)]() mutable -> Task<Result> { co_return work(); };
    // The work cannot be interrupted, so the caller's cancellation is not handed to it: handed
    // on, it surfaced as an exception on the pool thread (outside any coroutine) and ended the
    // process. A cancelled caller notices at its own next co_await instead.
    auto not_cancellable =
        boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(), boost::asio::use_awaitable);
    auto spawned = boost::asio::co_spawn(pool_.get_executor(), std::move(body), std::move(not_cancellable));
    co_return co_await std::move(spawned);
  }

  /// Finishes queued work and joins the threads.
  void stop() { pool_.join(); }

  /// The pool's executor, for components that post work directly.
  [[nodiscard]] boost::asio::thread_pool::executor_type executor() { return pool_.get_executor(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace evolveai::net

#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>

#include "core/task.hpp"

namespace evolveai::net {

/// Runs `task` for at most `timeout`. Returns its result, rethrows its exception, or returns
/// nullopt when the time ran out (the task is then cancelled). Unlike awaitable `||`, a task
/// that fails is reported at once instead of waiting for the timer.
template <typename T>
Task<std::optional<T>> with_timeout(Task<T> task, std::chrono::steady_clock::duration timeout) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, timeout);
  auto [order, error, result, timer_error] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(executor, std::move(task), asio::deferred),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 0) {
    if (error) {
      std::rethrow_exception(error);
    }
    co_return std::move(result);
  }
  co_return std::nullopt;
}

/// The same for a task without a result: true when it finished in time.
inline Task<bool> with_timeout(Task<void> task, std::chrono::steady_clock::duration timeout) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, timeout);
  auto [order, error, timer_error] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(executor, std::move(task), asio::deferred),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 0) {
    if (error) {
      std::rethrow_exception(error);
    }
    co_return true;
  }
  co_return false;
}

}  // namespace evolveai::net

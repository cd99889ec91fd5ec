// The pool for blocking work: results and exceptions come back to the caller on the caller's
// executor, and a caller cancelled while its work runs neither interrupts the work nor ends the
// process (a cancellation handed to the pool's thread once escaped as an exception there).
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <exception>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "net/blocking_pool.hpp"

namespace evolveai {
namespace {

/// Runs `task` to completion on a fresh io_context and returns its result or rethrows.
template <typename T>
T run_on_io(boost::asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(task), [&](const std::exception_ptr& e, T value) {
    error = e;
    if (!e) {
      result = std::move(value);
    }
  });
  io.run();
  io.restart();
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*result);
}

TEST(BlockingPool, WorkRunsOnAPoolThreadAndTheCallerResumesOnItsOwn) {
  boost::asio::io_context io;
  net::BlockingPool pool(2);
  const auto caller_thread = std::this_thread::get_id();
  auto caller = [&]() -> Task<bool> {
    auto work = [] { return std::this_thread::get_id(); };
    const auto work_thread = co_await pool.run(work);
    co_return work_thread != caller_thread&& std::this_thread::get_id() == caller_thread;
  };
  EXPECT_TRUE(run_on_io(io, caller()));
}

TEST(BlockingPool, TheWorksExceptionIsRethrownToTheCaller) {
  boost::asio::io_context io;
  net::BlockingPool pool(1);
  auto caller = [&]() -> Task<int> {
    auto work = []() -> int { throw std::runtime_error("disk full"); };
    co_return co_await pool.run(work);
  };
  EXPECT_THROW(
      {
        try {
          run_on_io(io, caller());
        } catch (const std::runtime_error& error) {
          EXPECT_STREQ(error.what(), "disk full");
          throw;
        }
      },
      std::runtime_error);
}

TEST(BlockingPool, ACallerCancelledWhileItsWorkRunsLeavesTheWorkAndThePoolIntact) {
  boost::asio::io_context io;
  net::BlockingPool pool(1);
  std::promise<void> started;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  std::atomic<bool> work_finished{false};

  boost::asio::cancellation_signal cancel;
  std::promise<std::exception_ptr> outcome;
  auto caller = [&]() -> Task<int> {
    auto work = [&, release_future] {
      started.set_value();
      release_future.wait();
      work_finished = true;
      return 7;
    };
    co_return co_await pool.run(work);
  };
  auto on_done = [&](const std::exception_ptr& error, int /*value*/) { outcome.set_value(error); };
  boost::asio::co_spawn(io, caller(), boost::asio::bind_cancellation_slot(cancel.slot(), on_done));
  std::thread runner([&] { io.run(); });

  started.get_future().wait();
  std::promise<void> emitted;
  boost::asio::post(io, [&] {
    cancel.emit(boost::asio::cancellation_type::terminal);
    emitted.set_value();
  });
  emitted.get_future().wait();
  release.set_value();
  auto done = outcome.get_future();
  const std::exception_ptr error = done.get();
  runner.join();

  // The work ran to its end; the caller either got the result or learnt it was cancelled.
  EXPECT_TRUE(work_finished.load());
  if (error) {
    EXPECT_THROW(std::rethrow_exception(error), boost::system::system_error);
  }
  // The pool's thread survived and takes new work.
  io.restart();
  auto again = [&]() -> Task<int> {
    auto work = [] { return 42; };
    co_return co_await pool.run(work);
  };
  EXPECT_EQ(run_on_io(io, again()), 42);
}

}  // namespace
}  // namespace evolveai

#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "core/task.hpp"
#include "telegram/update.hpp"

namespace evolveai::obs {
class ErrorReporter;
class Logger;
}  // namespace evolveai::obs

namespace evolveai::telegram {

/// Runs update handlers: updates of one chat one after another in arrival order, different
/// chats in parallel, and at most `max_in_flight` updates queued or running at once (submit
/// waits for room). A handler's exception is logged and given to `errors` (when set), never
/// passed on. Thread-safe.
class Dispatcher {
 public:
  /// Handles one update.
  using Handler = std::function<Task<void>(Update)>;

  Dispatcher(boost::asio::any_io_executor executor, Handler handler, std::size_t max_in_flight, obs::Logger& logger,
             obs::ErrorReporter* errors = nullptr);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  /// Queues an update behind the earlier ones of its chat; waits while the bound is reached.
  Task<void> submit(Update update);
  /// Waits until nothing is queued or running, or `timeout` passed; true when drained.
  Task<bool> drain(std::chrono::milliseconds timeout);
  /// Updates queued or running now.
  [[nodiscard]] std::size_t in_flight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evolveai::telegram

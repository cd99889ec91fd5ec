#pragma once

#include <chrono>
#include <functional>
#include <string_view>

namespace evolveai::storage {

/// Instrumentation hooks of a store, wired by the composition root to metrics and logs.
/// Callbacks receive the statement's name (e.g. "messages.insert"), never its parameters.
/// Any callback may be empty; they are called from any thread and must be thread-safe.
struct StoreObserver {
  /// After every statement (or pipeline), with its duration and whether it succeeded.
  std::function<void(std::string_view statement, std::chrono::nanoseconds took, bool ok)> on_statement;
  /// Statements slower than this are also reported to `on_slow`.
  std::chrono::milliseconds slow_threshold{200};
  /// A slow statement.
  std::function<void(std::string_view statement, std::chrono::nanoseconds took)> on_slow;
  /// Pool usage changed (PostgreSQL): connections in use and open.
  std::function<void(std::size_t in_use, std::size_t open)> on_pool;
  /// A transient failure is being retried.
  std::function<void(std::string_view statement, unsigned attempt, std::string_view reason)> on_retry;

  /// Reports one finished statement to on_statement and, when slow, to on_slow.
  void report(std::string_view statement, std::chrono::nanoseconds took, bool ok) const {
    if (on_statement)
      on_statement(statement, took, ok);
    if (on_slow && took >= slow_threshold)
      on_slow(statement, took);
  }
};

}  // namespace evolveai::storage

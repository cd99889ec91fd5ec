#pragma once

#include <chrono>
#include <functional>

namespace evolveai::services::auth {

/// A moment on the wall clock, as Telegram's auth_date and JWT times count it.
using Time = std::chrono::system_clock::time_point;

/// Where the auth checks read the current time; tests inject a controllable one.
using Clock = std::function<Time()>;

/// The clock to use when none is injected.
inline Clock system_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace evolveai::services::auth

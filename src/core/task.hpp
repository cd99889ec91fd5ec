#pragma once

#include <boost/asio/awaitable.hpp>

namespace evolveai {

/// The coroutine type of every asynchronous call in EvolveAI.
template <typename T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace evolveai

#pragma once

#include <string_view>

#include "core/errors.hpp"
#include "http/message.hpp"

namespace evolveai::http {

/// The HTTP status of an error kind (the one place where kinds meet statuses).
int status_for(const core::Error& error);

/// The JSON error body of API.md, with Retry-After where the error carries one.
Response error_response(const core::Error& error, std::string_view request_id);

/// The 500 answer for anything unexpected: no internals, just the request id.
Response internal_error_response(std::string_view request_id);

}  // namespace evolveai::http

#pragma once

#include <string>
#include <string_view>

namespace evolveai::core {

/// Standard base64 with padding (RFC 4648 §4), as JSON APIs carry binary data.
[[nodiscard]] std::string base64_encode(std::string_view bytes);

}  // namespace evolveai::core

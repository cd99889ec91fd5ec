// Fuzzes JSON request bodies: the input is the body of a POST or PATCH. It goes through
// parse_json_object as every route does, then every field through the helpers the routes read
// fields with (strings with character bounds, whole numbers in a range, booleans), the settings
// patch of PATCH /api/v1/profile, the image of POST /api/v1/chat and the init data of
// POST /api/v1/auth. Bad input must end in core::Error; what is accepted must keep its bounds.
// The input is also tried as a query string and as a Content-Type.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "api/json_body.hpp"
#include "core/errors.hpp"
#include "core/utf8.hpp"
#include "http/message.hpp"
#include "services/auth/telegram_init_data.hpp"
#include "services/chat_image.hpp"
#include "services/user_settings.hpp"

namespace {

namespace api = evolveai::api;
namespace core = evolveai::core;
namespace json = boost::json;
namespace services = evolveai::services;

/// Character bounds the routes use (message, client_message_id, plan, username, reason…).
struct Bounds {
  std::size_t min;
  std::size_t max;
};
constexpr Bounds kStringBounds[] = {{1, 4000}, {1, 64}, {1, 32}, {0, 500}, {1, 8192}};

/// Integer ranges the routes use (days, percentage, page sizes).
struct Range {
  std::int64_t min;
  std::int64_t max;
};
constexpr Range kIntegerRanges[] = {{1, 3650}, {0, 100}, {1, 200}, {INT64_MIN, INT64_MAX}};

void read_field(const json::object& body, std::string_view key) {
  for (const auto bounds : kStringBounds) {
    try {
      const auto text = api::optional_string(body, key, bounds.min, bounds.max);
      if (text) {
        const auto length = core::utf8_length(*text);
        if (!core::is_valid_utf8(*text) || length < bounds.min || length > bounds.max) {
          std::abort();
        }
        if (api::require_string(body, key, bounds.min, bounds.max) != *text) {
          std::abort();
        }
      }
    } catch (const core::Error&) {
    }
  }
  for (const auto range : kIntegerRanges) {
    try {
      const auto number = api::optional_integer(body, key, range.min, range.max);
      if (number && (*number < range.min || *number > range.max)) {
        std::abort();
      }
    } catch (const core::Error&) {
    }
  }
  try {
    (void)api::optional_bool(body, key);
  } catch (const core::Error&) {
  }
}

/// PATCH /api/v1/profile: a stored patch reads back as what was applied.
void patch_settings(const json::object& patch) {
  try {
    const auto settings = services::apply_settings_patch(services::UserSettings{}, patch);
    const auto stored = json::serialize(services::to_json(settings));
    if (services::parse_stored_settings(stored) != settings) {
      std::abort();
    }
  } catch (const core::Error&) {
  }
}

/// POST /api/v1/chat's `image`: base64 text, then the file check.
void read_image(const json::object& body) {
  const auto* image = body.if_contains("image");
  if (image == nullptr || !image->is_object()) {
    return;
  }
  try {
    const auto mime_type = api::require_string(image->as_object(), "mime_type", 1, 100);
    const auto* data = image->as_object().if_contains("data");
    if (data == nullptr || !data->is_string()) {
      return;
    }
    constexpr std::size_t kMaxImageBytes = std::size_t{1} << 20;
    auto bytes = services::decode_image_base64(data->as_string(), kMaxImageBytes);
    (void)services::check_image(std::move(bytes), mime_type, kMaxImageBytes);
  } catch (const core::Error&) {
  }
}

void read_body(const json::object& body) {
  for (const auto& [key, value] : body) {
    read_field(body, key);
  }
  // Absent fields take the same paths as in a route.
  read_field(body, "message");
  patch_settings(body);
  if (const auto* settings = body.if_contains("settings"); settings != nullptr && settings->is_object()) {
    patch_settings(settings->as_object());
  }
  read_image(body);
  try {
    if (const auto init_data = api::optional_string(body, "init_data", 1, 8192)) {
      (void)evolveai::services::auth::TelegramInitData::parse(*init_data);
    }
  } catch (const core::Error&) {
  }
  // Echoed back as a response. (Not compared after a re-parse: Boost.JSON reads numbers past the
  // double range as infinity and writes that as `Infinity`, so no route echoes client numbers.)
  const auto response = api::json_response(200, body);
  if (response.status != 200 || response.body.empty()) {
    std::abort();
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  evolveai::http::Request request;
  request.method = "POST";
  request.headers.add("Content-Type", "application/json");
  request.body = std::string(input);
  try {
    read_body(api::parse_json_object(request, {}));
  } catch (const core::Error& error) {
    if (error.code() != "invalid_json") {
      std::abort();
    }
  }

  // The same bytes as a query string (GET /api/v1/history?limit=…) and as a Content-Type.
  request.query = std::string(input);
  try {
    const auto limit = api::query_integer(request, "limit", 50, 1, 200);
    if (limit < 1 || limit > 200) {
      std::abort();
    }
  } catch (const core::Error&) {
  }
  evolveai::http::Request typed;
  typed.headers.add("Content-Type", std::string(input.substr(0, 256)));
  typed.body = "{}";
  try {
    (void)api::parse_json_object(typed, {});
  } catch (const core::Error& error) {
    if (error.code() != "unsupported_media_type") {
      std::abort();
    }
  }
  return 0;
}

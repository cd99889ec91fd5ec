#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "services/auth/outcome.hpp"

namespace evolveai::services::auth {

/// One decoded `key=value` pair of a form-encoded query string.
struct QueryField {
  std::string key;
  std::string value;

  bool operator==(const QueryField&) const = default;
};

/// Why a query string was refused.
enum class QueryStringError {
  kMalformed,     ///< too long, a pair without '=', an empty key, a bad %XX escape, raw bytes
                  ///< that a URL-encoded string never holds, or text that is not UTF-8 once decoded
  kDuplicateKey,  ///< the same key twice: ambiguous, so never accepted
};

/// Bounds on a query string; what a client controls is always bounded.
struct QueryStringLimits {
  std::size_t max_length = std::size_t{16} * 1024;
  std::size_t max_fields = 64;
};

/// Splits an application/x-www-form-urlencoded string into decoded pairs, in input order.
/// Strict: '+' is a space, every '%' must start two hex digits, keys and values must be
/// UTF-8 after decoding, raw spaces, control and non-ASCII bytes are refused, and every
/// non-empty piece between '&' needs a '=' (the first '=' splits; later ones belong to the
/// value). Empty pieces ("a=1&&b=2", a trailing '&') are skipped as browsers do.
[[nodiscard]] Outcome<std::vector<QueryField>, QueryStringError> parse_query_string(std::string_view text,
                                                                                    QueryStringLimits limits = {});

}  // namespace evolveai::services::auth

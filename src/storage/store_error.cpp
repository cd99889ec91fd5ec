#include "storage/store_error.hpp"

#include <utility>

namespace evolveai::storage {

StoreError::StoreError(StoreErrorKind kind, std::string statement, const std::string& detail, std::string sqlstate)
    : std::runtime_error(statement + ": " + detail + (sqlstate.empty() ? std::string() : " [" + sqlstate + "]")),
      kind_(kind),
      statement_(std::move(statement)),
      sqlstate_(std::move(sqlstate)) {}

const char* to_string(StoreErrorKind kind) noexcept {
  switch (kind) {
    case StoreErrorKind::kTransient: return "transient";
    case StoreErrorKind::kConnect: return "connect";
    case StoreErrorKind::kConnectionLost: return "connection_lost";
    case StoreErrorKind::kTimeout: return "timeout";
    case StoreErrorKind::kConstraint: return "constraint";
    case StoreErrorKind::kOther: return "other";
  }
  return "other";
}

}  // namespace evolveai::storage

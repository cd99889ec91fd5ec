#pragma once

#include <string_view>

namespace evolveai::app {

/// The release version of this binary.
std::string_view build_version();
/// The git commit it was built from ("unknown" outside a checkout).
std::string_view build_commit();
/// When it was configured for building, UTC ("2024-05-10T12:00:00Z"; SOURCE_DATE_EPOCH when set).
std::string_view build_date();

}  // namespace evolveai::app

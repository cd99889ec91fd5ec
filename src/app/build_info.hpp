#pragma once

#include <string_view>

namespace evolveai::app {

/// The release version of this binary.
std::string_view build_version();
/// The git commit it was built from ("unknown" outside a checkout).
std::string_view build_commit();

}  // namespace evolveai::app

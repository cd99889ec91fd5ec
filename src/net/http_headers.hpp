#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evolveai::net {

/// Header fields of a request or a response, in order; lookup ignores case.
class HttpHeaders {
 public:
  /// The first value of `name`, if present.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  /// Replaces every field called `name` with one holding `value`.
  void set(std::string_view name, std::string value);
  /// Appends a field, keeping existing ones.
  void add(std::string name, std::string value);

  /// Every field in the order it was added.
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace evolveai::net

#pragma once

#include <stdexcept>
#include <utility>
#include <variant>

namespace evolveai::services::auth {

/// The result of a check on untrusted input: either the verified value or the reason it was
/// refused. Refusals are expected outcomes (values), not exceptions.
template <typename T, typename Reason>
class Outcome {
 public:
  /// A success carrying the verified value.
  Outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  /// A refusal carrying its reason.
  Outcome(Reason reason) : state_(std::in_place_index<1>, reason) {}  // NOLINT(google-explicit-constructor)

  /// True when the input was accepted.
  [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The verified value; throws std::logic_error on a refusal.
  [[nodiscard]] const T& value() const& {
    if (!ok())
      throw std::logic_error("Outcome::value() called on a refusal");
    return std::get<0>(state_);
  }
  /// Moves the verified value out; throws std::logic_error on a refusal.
  [[nodiscard]] T&& value() && {
    if (!ok())
      throw std::logic_error("Outcome::value() called on a refusal");
    return std::get<0>(std::move(state_));
  }
  /// Why the input was refused; throws std::logic_error on a success.
  [[nodiscard]] Reason reason() const {
    if (ok())
      throw std::logic_error("Outcome::reason() called on a success");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Reason> state_;
};

}  // namespace evolveai::services::auth

#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "services/auth/crypto_init.hpp"

namespace evolveai::services::auth {

/// How much work and memory one argon2id hash costs (libsodium's named levels).
enum class PasswordCost {
  kInteractive,  ///< OPSLIMIT/MEMLIMIT_INTERACTIVE: 2 passes, 64 MiB (default; admin logins)
  kModerate,     ///< OPSLIMIT/MEMLIMIT_MODERATE: 3 passes, 256 MiB
};

/// Hashes and checks admin passwords with argon2id (libsodium `crypto_pwhash_str_alg`), in the
/// self-describing `$argon2id$v=19$m=…,t=…,p=…$salt$hash` form. Every call is CPU- and
/// memory-heavy and blocking: run it off the I/O threads and bound how many run at once.
/// Thread-safe.
class PasswordHasher {
 public:
  /// Longest password accepted, in bytes.
  static constexpr std::size_t kMaxPasswordBytes = 1024;

  /// Computes, once, the dummy hash that verify_or_dummy checks against for unknown users.
  explicit PasswordHasher(const CryptoInit& crypto, PasswordCost cost = PasswordCost::kInteractive);

  /// A new argon2id hash with a random salt; throws std::invalid_argument for an empty
  /// password or one longer than kMaxPasswordBytes, std::runtime_error when out of memory.
  [[nodiscard]] std::string hash(std::string_view password) const;

  /// True when `password` matches `stored_hash`; false for a wrong password, an over-long one,
  /// or a stored value that is not an argon2 hash.
  [[nodiscard]] bool verify(std::string_view stored_hash, std::string_view password) const;

  /// For logins: verifies against the stored hash when the account exists, and otherwise
  /// against a dummy hash of the same cost and always returns false, so the time taken does
  /// not tell whether the username exists.
  [[nodiscard]] bool verify_or_dummy(const std::optional<std::string>& stored_hash, std::string_view password) const;

  /// True when `stored_hash` is not argon2id at this hasher's cost (weaker or stronger, or not
  /// argon2id at all): re-hash the password after the next successful login.
  [[nodiscard]] bool needs_rehash(std::string_view stored_hash) const;

 private:
  unsigned long long opslimit_;
  std::size_t memlimit_;
  /// The hash of a random, forgotten password, checked when there is no stored hash.
  [[nodiscard]] const std::string& dummy_hash() const;
  mutable std::once_flag dummy_once_;
  mutable std::string dummy_hash_;
};

}  // namespace evolveai::services::auth

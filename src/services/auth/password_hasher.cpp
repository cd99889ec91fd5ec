#include "services/auth/password_hasher.hpp"

#include <sodium.h>

#include <array>
#include <mutex>
#include <stdexcept>

namespace evolveai::services::auth {
namespace {

/// A stored hash as libsodium wants it: NUL-terminated and shorter than its buffer size.
std::optional<std::string> terminated_hash(std::string_view stored_hash) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES ||
      stored_hash.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(stored_hash);
}

}  // namespace

PasswordHasher::PasswordHasher(const CryptoInit& /*crypto*/, PasswordCost cost)
    : opslimit_(cost == PasswordCost::kModerate ? crypto_pwhash_OPSLIMIT_MODERATE : crypto_pwhash_OPSLIMIT_INTERACTIVE),
      memlimit_(cost == PasswordCost::kModerate ? crypto_pwhash_MEMLIMIT_MODERATE
                                                : crypto_pwhash_MEMLIMIT_INTERACTIVE) {}

const std::string& PasswordHasher::dummy_hash() const {
  // Made on first use, not at start-up: argon2id takes `memlimit_` (64 MiB by default) while it
  // runs, which would otherwise be the peak memory of every server, admin sign-ins or not.
  std::call_once(dummy_once_, [this] {
    // The dummy's password is random and discarded: nothing can ever match it.
    std::array<unsigned char, 24> random{};
    randombytes_buf(random.data(), random.size());
    std::string password(sizeof random * 2 + 1, '\0');
    sodium_bin2hex(password.data(), password.size(), random.data(), random.size());
    password.pop_back();
    dummy_hash_ = hash(password);
    sodium_memzero(password.data(), password.size());
  });
  return dummy_hash_;
}

std::string PasswordHasher::hash(std::string_view password) const {
  if (password.empty() || password.size() > kMaxPasswordBytes) {
    throw std::invalid_argument("password must be 1.." + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), opslimit_, memlimit_,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  return std::string(out.data());
}

bool PasswordHasher::verify(std::string_view stored_hash, std::string_view password) const {
  const auto terminated = terminated_hash(stored_hash);
  if (!terminated || password.size() > kMaxPasswordBytes) {
    return false;
  }
  return crypto_pwhash_str_verify(terminated->c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::verify_or_dummy(const std::optional<std::string>& stored_hash, std::string_view password) const {
  if (stored_hash) {
    return verify(*stored_hash, password);
  }
  // Same work as a real check; the answer is false whatever it computes.
  static_cast<void>(verify(dummy_hash(), password));
  return false;
}

bool PasswordHasher::needs_rehash(std::string_view stored_hash) const {
  const auto terminated = terminated_hash(stored_hash);
  if (!terminated) {
    return true;
  }
  // The argon2id-specific check answers -1 for anything that is not argon2id.
  return crypto_pwhash_argon2id_str_needs_rehash(terminated->c_str(), opslimit_, memlimit_) != 0;
}

}  // namespace evolveai::services::auth

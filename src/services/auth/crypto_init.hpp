#pragma once

namespace evolveai::services::auth {

/// Proof that the crypto libraries are initialised (libsodium's sodium_init). The composition
/// root creates one before anything that hashes passwords, verifies Ed25519 signatures or
/// draws random token ids; those classes take a reference to it so the order cannot be missed.
class CryptoInit {
 public:
  /// Initialises libsodium; throws std::runtime_error when it cannot (no usable randomness).
  CryptoInit();

  CryptoInit(const CryptoInit&) = delete;
  CryptoInit& operator=(const CryptoInit&) = delete;
  CryptoInit(CryptoInit&&) = delete;
  CryptoInit& operator=(CryptoInit&&) = delete;
  ~CryptoInit() = default;
};

}  // namespace evolveai::services::auth

#include "services/auth/crypto_init.hpp"

#include <sodium.h>

#include <stdexcept>

namespace evolveai::services::auth {

CryptoInit::CryptoInit() {
  // sodium_init is thread-safe and idempotent: 0 the first time, 1 when already done.
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium could not be initialised");
  }
}

}  // namespace evolveai::services::auth

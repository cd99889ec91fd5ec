#include "services/auth/password_hasher.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

namespace evolveai::services::auth {
namespace {

class PasswordHasherTest : public ::testing::Test {
 protected:
  CryptoInit crypto_;
  PasswordHasher hasher_{crypto_};
};

TEST_F(PasswordHasherTest, HashIsArgon2idAndVerifies) {
  const std::string hash = hasher_.hash("correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$")) << hash;
  EXPECT_TRUE(hasher_.verify(hash, "correct horse battery staple"));
}

TEST_F(PasswordHasherTest, WrongPasswordIsRejected) {
  const std::string hash = hasher_.hash("correct horse battery staple");
  EXPECT_FALSE(hasher_.verify(hash, "correct horse battery stapler"));
  EXPECT_FALSE(hasher_.verify(hash, ""));
  EXPECT_FALSE(hasher_.verify(hash, "Correct horse battery staple"));
}

TEST_F(PasswordHasherTest, SamePasswordHashesDifferentlyEachTime) {
  EXPECT_NE(hasher_.hash("secret-password"), hasher_.hash("secret-password"));
}

TEST_F(PasswordHasherTest, StoredValueThatIsNoHashNeverVerifies) {
  EXPECT_FALSE(hasher_.verify("", "x"));
  EXPECT_FALSE(hasher_.verify("plaintext-password", "plaintext-password"));
  EXPECT_FALSE(hasher_.verify("$argon2id$v=19$m=65536,t=2,p=1$garbage", "x"));
  EXPECT_FALSE(hasher_.verify(std::string(200, '$'), "x"));
  const std::string hash = hasher_.hash("pw");
  EXPECT_FALSE(hasher_.verify(hash + std::string(1, '\0') + "tail", "pw"));
}

TEST_F(PasswordHasherTest, EmptyOrOverlongPasswordsCannotBeSet) {
  EXPECT_THROW(static_cast<void>(hasher_.hash("")), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(hasher_.hash(std::string(PasswordHasher::kMaxPasswordBytes + 1, 'a'))),
               std::invalid_argument);
  const std::string longest(PasswordHasher::kMaxPasswordBytes, 'a');
  EXPECT_TRUE(hasher_.verify(hasher_.hash(longest), longest));
}

TEST_F(PasswordHasherTest, OverlongPasswordNeverVerifies) {
  const std::string hash = hasher_.hash("pw");
  EXPECT_FALSE(hasher_.verify(hash, std::string(PasswordHasher::kMaxPasswordBytes + 1, 'a')));
}

TEST_F(PasswordHasherTest, VerifyOrDummyChecksKnownUsersAndRefusesUnknownOnes) {
  const std::string hash = hasher_.hash("pw-of-known-admin");
  EXPECT_TRUE(hasher_.verify_or_dummy(hash, "pw-of-known-admin"));
  EXPECT_FALSE(hasher_.verify_or_dummy(hash, "wrong"));
  EXPECT_FALSE(hasher_.verify_or_dummy(std::nullopt, "pw-of-known-admin"));
  EXPECT_FALSE(hasher_.verify_or_dummy(std::nullopt, ""));
}

TEST_F(PasswordHasherTest, UnknownUserCostsAsMuchAsAKnownOne) {
  // Timing: the dummy path must do a real argon2id verification, not return at once. A
  // generous factor keeps this stable on a busy machine; skipping the work would be ~1000x faster.
  const std::string hash = hasher_.hash("pw-of-known-admin");
  const auto time_of = [](auto&& fn) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      fn();
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  const auto known = time_of([&] { static_cast<void>(hasher_.verify_or_dummy(hash, "wrong-password")); });
  const auto unknown = time_of([&] { static_cast<void>(hasher_.verify_or_dummy(std::nullopt, "wrong-password")); });
  EXPECT_GT(unknown * 4, known) << "known " << known.count() << " ns, unknown " << unknown.count() << " ns";
  EXPECT_GT(known * 4, unknown) << "known " << known.count() << " ns, unknown " << unknown.count() << " ns";
}

TEST_F(PasswordHasherTest, HashAtTheCurrentCostNeedsNoRehash) {
  EXPECT_FALSE(hasher_.needs_rehash(hasher_.hash("pw")));
}

TEST_F(PasswordHasherTest, HashAtAnotherCostOrAlgorithmNeedsRehash) {
  const PasswordHasher stronger(crypto_, PasswordCost::kModerate);
  const std::string interactive = hasher_.hash("pw");
  EXPECT_TRUE(stronger.needs_rehash(interactive));
  EXPECT_TRUE(stronger.verify(interactive, "pw")) << "old hashes still verify after the cost changes";

  std::array<char, crypto_pwhash_STRBYTES> argon2i{};
  ASSERT_EQ(crypto_pwhash_str_alg(argon2i.data(), "pw", 2, crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2I13),
            0);
  EXPECT_TRUE(hasher_.needs_rehash(argon2i.data()));
  EXPECT_TRUE(hasher_.needs_rehash("not-a-hash"));
  EXPECT_TRUE(hasher_.needs_rehash(""));
}

}  // namespace
}  // namespace evolveai::services::auth

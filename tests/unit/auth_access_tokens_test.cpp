#include "services/auth/access_tokens.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "services/auth/primitives.hpp"

namespace evolveai::services::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kSecretA = "0123456789abcdef0123456789abcdef-key-a";
constexpr std::string_view kSecretB = "fedcba9876543210fedcba9876543210-key-b";
constexpr Time kNow{std::chrono::seconds(1'764'028'800)};

/// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<Time> now = std::make_shared<Time>(kNow);
  [[nodiscard]] Clock clock() const {
    return [now = now] { return *now; };
  }
  void advance(std::chrono::milliseconds by) const { *now += by; }
};

AccessTokenSettings settings(std::vector<TokenKey> keys, std::string signing = {},
                             std::chrono::milliseconds skew = 30s) {
  AccessTokenSettings result;
  result.keys = std::move(keys);
  result.signing_key_id = std::move(signing);
  result.ttl = 1h;
  result.clock_skew = skew;
  return result;
}

std::string part(std::string_view text) {
  return encode_base64url(as_bytes(text));
}

/// A token built by hand: any header, any payload, HMAC-SHA256 under `secret` (or no signature).
std::string craft(std::string_view header, std::string_view payload, std::optional<std::string_view> secret) {
  const std::string signed_part = part(header) + "." + part(payload);
  if (!secret) {
    return signed_part + ".";
  }
  return signed_part + "." + encode_base64url(hmac_sha256(*secret, signed_part));
}

std::string valid_payload() {
  const long iat = std::chrono::duration_cast<std::chrono::seconds>(kNow.time_since_epoch()).count();
  return R"({"sub":"17","role":"user","jti":"00112233445566778899aabbccddeeff","iat":)" + std::to_string(iat) +
         R"(,"exp":)" + std::to_string(iat + 3600) + "}";
}

boost::json::object decode_part(std::string_view token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = token.find('.', start) + 1;
  }
  const auto end = token.find('.', start);
  const auto bytes = decode_base64url(token.substr(start, end - start));
  EXPECT_TRUE(bytes.has_value());
  return boost::json::parse(std::string(bytes->begin(), bytes->end())).as_object();
}

class AccessTokensTest : public ::testing::Test {
 protected:
  CryptoInit crypto_;
  ManualClock clock_;
};

TEST_F(AccessTokensTest, IssuedTokenVerifiesWithItsClaims) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const IssuedToken issued = tokens.issue(17, Role::kUser);
  const auto outcome = tokens.verify(issued.token);
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  const AccessClaims& claims = outcome.value();
  EXPECT_EQ(claims.subject, 17);
  EXPECT_EQ(claims.role, Role::kUser);
  EXPECT_EQ(claims.token_id, issued.token_id);
  EXPECT_EQ(claims.key_id, "a");
  EXPECT_EQ(claims.issued_at, kNow);
  EXPECT_EQ(claims.expires_at, kNow + 1h);
  EXPECT_EQ(issued.expires_at, kNow + 1h);
  EXPECT_EQ(tokens.ttl(), 1h);
}

TEST_F(AccessTokensTest, AdminRoleRoundTrips) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const auto outcome = tokens.verify(tokens.issue(3, Role::kAdmin).token);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.value().role, Role::kAdmin);
  EXPECT_EQ(outcome.value().subject, 3);
}

TEST_F(AccessTokensTest, TokenCarriesTheDocumentedHeaderAndClaims) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const IssuedToken issued = tokens.issue(17, Role::kUser);
  const auto header = decode_part(issued.token, 0);
  EXPECT_EQ(header.at("alg").as_string(), "HS256");
  EXPECT_EQ(header.at("kid").as_string(), "a");
  const auto payload = decode_part(issued.token, 1);
  EXPECT_EQ(payload.at("sub").as_string(), "17");
  EXPECT_EQ(payload.at("role").as_string(), "user");
  EXPECT_EQ(payload.at("iat").to_number<std::int64_t>(), 1'764'028'800);
  EXPECT_EQ(payload.at("exp").to_number<std::int64_t>(), 1'764'028'800 + 3600);
  const std::string jti(payload.at("jti").as_string());
  EXPECT_EQ(jti.size(), 32U);
  EXPECT_EQ(jti.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST_F(AccessTokensTest, EveryTokenGetsItsOwnId) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    ids.insert(tokens.issue(17, Role::kUser).token_id);
  }
  EXPECT_EQ(ids.size(), 100U);
}

TEST_F(AccessTokensTest, RotationKeepsOldTokensValidAndSignsWithTheNewKey) {
  const AccessTokens before(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const IssuedToken old_token = before.issue(17, Role::kUser);

  const AccessTokens after(crypto_, settings({{"a", std::string(kSecretA)}, {"b", std::string(kSecretB)}}, "b"),
                           clock_.clock());
  const auto old_outcome = after.verify(old_token.token);
  ASSERT_TRUE(old_outcome.ok()) << old_outcome.reason();
  EXPECT_EQ(old_outcome.value().key_id, "a");

  const IssuedToken new_token = after.issue(17, Role::kUser);
  EXPECT_EQ(decode_part(new_token.token, 0).at("kid").as_string(), "b");
  EXPECT_EQ(after.signing_key_id(), "b");
  EXPECT_EQ(after.verify(new_token.token).value().key_id, "b");

  // Once the old key is retired, its tokens stop working.
  const AccessTokens retired(crypto_, settings({{"b", std::string(kSecretB)}}), clock_.clock());
  EXPECT_EQ(retired.verify(old_token.token).reason(), TokenFailure::kUnknownKey);
  EXPECT_TRUE(retired.verify(new_token.token).ok());
}

TEST_F(AccessTokensTest, AlgNoneIsRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  for (const std::string header :
       {R"({"alg":"none","kid":"a","typ":"JWT"})", R"({"alg":"None","kid":"a"})", R"({"alg":"NONE","kid":"a"})"}) {
    SCOPED_TRACE(header);
    EXPECT_EQ(tokens.verify(craft(header, valid_payload(), std::nullopt)).reason(),
              TokenFailure::kUnsupportedAlgorithm);
    // Even with a signature that would be right for HS256.
    EXPECT_EQ(tokens.verify(craft(header, valid_payload(), kSecretA)).reason(), TokenFailure::kUnsupportedAlgorithm);
  }
}

TEST_F(AccessTokensTest, Hs512SignedWithTheRightSecretIsRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  jwt_t* raw = nullptr;
  ASSERT_EQ(jwt_new(&raw), 0);
  const std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  ASSERT_EQ(jwt_set_alg(jwt.get(), JWT_ALG_HS512, reinterpret_cast<const unsigned char*>(kSecretA.data()),
                        static_cast<int>(kSecretA.size())),
            0);
  ASSERT_EQ(jwt_add_header(jwt.get(), "kid", "a"), 0);
  ASSERT_EQ(jwt_add_grants_json(jwt.get(), valid_payload().c_str()), 0);
  char* encoded = jwt_encode_str(jwt.get());
  ASSERT_NE(encoded, nullptr);
  const std::string token(encoded);
  std::free(encoded);  // NOLINT(cppcoreguidelines-no-malloc): libjwt 1.10 allocates with malloc
  ASSERT_EQ(decode_part(token, 0).at("alg").as_string(), "HS512");
  EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kUnsupportedAlgorithm);
}

TEST_F(AccessTokensTest, Rs256HeaderIsRejectedWhateverTheSignature) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  // The classic confusion: an asymmetric alg in the header, signed with the HMAC secret.
  EXPECT_EQ(tokens.verify(craft(R"({"alg":"RS256","kid":"a","typ":"JWT"})", valid_payload(), kSecretA)).reason(),
            TokenFailure::kUnsupportedAlgorithm);
}

TEST_F(AccessTokensTest, OtherSpellingsOrMissingAlgAreRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  for (const std::string header : {R"({"alg":"hs256","kid":"a"})", R"({"alg":"HS256 ","kid":"a"})", R"({"kid":"a"})",
                                   R"({"alg":["HS256"],"kid":"a"})", R"({"alg":"HS256","kid":"a","crit":["exp"]})"}) {
    SCOPED_TRACE(header);
    EXPECT_EQ(tokens.verify(craft(header, valid_payload(), kSecretA)).reason(), TokenFailure::kUnsupportedAlgorithm);
  }
}

TEST_F(AccessTokensTest, CraftedHs256TokenWithTheRightSecretVerifies) {
  // The control case for the crafted tokens below: only what they change makes them fail.
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const auto outcome = tokens.verify(craft(R"({"alg":"HS256","typ":"JWT","kid":"a"})", valid_payload(), kSecretA));
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().subject, 17);
}

TEST_F(AccessTokensTest, TamperedPayloadIsRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const std::string token = tokens.issue(17, Role::kUser).token;
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  auto payload = decode_part(token, 1);
  payload["role"] = "admin";
  const std::string forged = token.substr(0, first + 1) + part(boost::json::serialize(payload)) + token.substr(second);
  EXPECT_EQ(tokens.verify(forged).reason(), TokenFailure::kBadSignature);
}

// Verified tokens are remembered (auth.verified_token_cache): a remembered token must not make a
// forged neighbour pass, the times are checked on every use, and the memory stays bounded.
TEST_F(AccessTokensTest, RememberedTokensStayExactAndBounded) {
  for (const std::size_t cache : {std::size_t{0}, std::size_t{2}, std::size_t{1000}}) {
    auto options = settings({{"a", std::string(kSecretA)}}, {}, 0s);
    options.verified_cache = cache;
    const AccessTokens tokens(crypto_, options, clock_.clock());
    std::vector<std::string> issued;
    for (std::int64_t subject = 1; subject <= 5; ++subject)
      issued.push_back(tokens.issue(subject, Role::kUser).token);
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < issued.size(); ++i) {
        const auto claims = tokens.verify(issued[i]);
        ASSERT_TRUE(claims) << "cache " << cache << ", token " << i;
        EXPECT_EQ(claims.value().subject, static_cast<std::int64_t>(i + 1));
        std::string forged = issued[i];
        char& c = forged[forged.size() - 3];
        c = c == 'A' ? 'B' : 'A';
        EXPECT_EQ(tokens.verify(forged).reason(), TokenFailure::kBadSignature) << "cache " << cache;
      }
    }
    clock_.advance(1h);
    for (const auto& token : issued)
      EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kExpired) << "cache " << cache;
    clock_.advance(-1h);
  }
}

TEST_F(AccessTokensTest, TamperedSignatureIsRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  std::string token = tokens.issue(17, Role::kUser).token;
  char& c = token[token.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kBadSignature);
  token.pop_back();
  EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kBadSignature);
}

TEST_F(AccessTokensTest, TokenOfAnotherSecretUnderTheSameKidIsRejected) {
  const AccessTokens ours(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const AccessTokens theirs(crypto_, settings({{"a", std::string(kSecretB)}}), clock_.clock());
  EXPECT_EQ(ours.verify(theirs.issue(17, Role::kUser).token).reason(), TokenFailure::kBadSignature);
}

TEST_F(AccessTokensTest, UnknownOrMissingKidIsRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  EXPECT_EQ(tokens.verify(craft(R"({"alg":"HS256","kid":"zzz"})", valid_payload(), kSecretA)).reason(),
            TokenFailure::kUnknownKey);
  EXPECT_EQ(tokens.verify(craft(R"({"alg":"HS256"})", valid_payload(), kSecretA)).reason(), TokenFailure::kUnknownKey);
  EXPECT_EQ(tokens.verify(craft(R"({"alg":"HS256","kid":1})", valid_payload(), kSecretA)).reason(),
            TokenFailure::kUnknownKey);
}

TEST_F(AccessTokensTest, ExpiredTokenIsRejectedAsExpiredWithoutSkew) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}, {}, 0s), clock_.clock());
  const std::string token = tokens.issue(17, Role::kUser).token;
  clock_.advance(1h - 1s);
  EXPECT_TRUE(tokens.verify(token).ok());
  clock_.advance(1s);
  EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kExpired);
}

TEST_F(AccessTokensTest, ClockSkewExtendsExpiryByTheSkewOnly) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}, {}, 30s), clock_.clock());
  const std::string token = tokens.issue(17, Role::kUser).token;
  clock_.advance(1h + 29s);
  EXPECT_TRUE(tokens.verify(token).ok());
  clock_.advance(1s);
  EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kExpired);
}

TEST_F(AccessTokensTest, TokenIssuedInTheFutureBeyondSkewIsRejected) {
  ManualClock issuer_clock;
  issuer_clock.advance(5min);
  const AccessTokens issuer(crypto_, settings({{"a", std::string(kSecretA)}}), issuer_clock.clock());
  const AccessTokens verifier(crypto_, settings({{"a", std::string(kSecretA)}}, {}, 30s), clock_.clock());
  EXPECT_EQ(verifier.verify(issuer.issue(17, Role::kUser).token).reason(), TokenFailure::kNotYetValid);

  ManualClock slightly_ahead;
  slightly_ahead.advance(20s);
  const AccessTokens near_issuer(crypto_, settings({{"a", std::string(kSecretA)}}), slightly_ahead.clock());
  EXPECT_TRUE(verifier.verify(near_issuer.issue(17, Role::kUser).token).ok());
}

TEST_F(AccessTokensTest, MalformedTokensAreRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const std::string good = tokens.issue(17, Role::kUser).token;
  for (const std::string& token : std::vector<std::string>{
           "", "abc", "a.b", "a.b.c.d", ".b.c", "a..c", "!!!.b.c", good + ".x",
           part("not json") + "." + part("{}") + ".c", part("[1]") + "." + part("{}") + ".c", std::string(9000, 'a')}) {
    SCOPED_TRACE(token.substr(0, 40));
    EXPECT_EQ(tokens.verify(token).reason(), TokenFailure::kMalformed);
  }
}

TEST_F(AccessTokensTest, SignedTokensWithBadClaimsAreRejected) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  const std::string header = R"({"alg":"HS256","kid":"a"})";
  const std::string times = R"("iat":1764028800,"exp":1764032400)";
  const std::string jti = R"("jti":"00112233445566778899aabbccddeeff")";
  for (const std::string& payload : std::vector<std::string>{
           "{" + times + "," + jti + R"(,"role":"user"})",                                        // no sub
           "{" + times + "," + jti + R"(,"role":"user","sub":17})",                               // numeric sub
           "{" + times + "," + jti + R"(,"role":"user","sub":"abc"})",                            // non-numeric sub
           "{" + times + "," + jti + R"(,"role":"user","sub":"-1"})",                             // negative sub
           "{" + times + "," + jti + R"(,"role":"user","sub":"0"})",                              // zero sub
           "{" + times + "," + jti + R"(,"role":"root","sub":"17"})",                             // unknown role
           "{" + times + "," + jti + R"(,"sub":"17"})",                                           // no role
           "{" + times + R"(,"role":"user","sub":"17"})",                                         // no jti
           "{" + times + R"(,"jti":"","role":"user","sub":"17"})",                                // empty jti
           R"({"iat":1764028800,)" + jti + R"(,"role":"user","sub":"17"})",                       // no exp
           R"({"exp":1764032400,)" + jti + R"(,"role":"user","sub":"17"})",                       // no iat
           R"({"iat":1764028800,"exp":"1764032400",)" + jti + R"(,"role":"user","sub":"17"})",    // exp as text
           R"({"iat":1764028800,"exp":1764028800,)" + jti + R"(,"role":"user","sub":"17"})",      // exp == iat
           R"({"iat":1764028800,"exp":99999999999999,)" + jti + R"(,"role":"user","sub":"17"})",  // absurd exp
       }) {
    SCOPED_TRACE(payload);
    EXPECT_EQ(tokens.verify(craft(header, payload, kSecretA)).reason(), TokenFailure::kInvalidClaims);
  }
}

TEST_F(AccessTokensTest, ConstructionRefusesWeakOrInconsistentKeys) {
  EXPECT_THROW(AccessTokens(crypto_, settings({})), std::invalid_argument);
  EXPECT_THROW(AccessTokens(crypto_, settings({{"a", std::string(31, 'x')}})), std::invalid_argument);
  EXPECT_NO_THROW(AccessTokens(crypto_, settings({{"a", std::string(32, 'x')}})));
  EXPECT_THROW(AccessTokens(crypto_, settings({{"a", std::string(kSecretA)}, {"a", std::string(kSecretB)}})),
               std::invalid_argument);
  EXPECT_THROW(AccessTokens(crypto_, settings({{"", std::string(kSecretA)}})), std::invalid_argument);
  EXPECT_THROW(AccessTokens(crypto_, settings({{"bad kid", std::string(kSecretA)}})), std::invalid_argument);
  EXPECT_THROW(AccessTokens(crypto_, settings({{"a", std::string(kSecretA)}}, "b")), std::invalid_argument);
  auto short_ttl = settings({{"a", std::string(kSecretA)}});
  short_ttl.ttl = 500ms;
  EXPECT_THROW(AccessTokens(crypto_, short_ttl), std::invalid_argument);
  EXPECT_THROW(AccessTokens(crypto_, settings({{"a", std::string(kSecretA)}}, {}, -1s)), std::invalid_argument);
}

TEST_F(AccessTokensTest, ConstructionErrorsNeverShowTheSecret) {
  const std::string weak = "short-secret-value";
  try {
    const AccessTokens tokens(crypto_, settings({{"a", weak}}));
    FAIL() << "a short secret was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find(weak), std::string::npos);
  }
}

TEST_F(AccessTokensTest, IssuingForANonPositiveSubjectThrows) {
  const AccessTokens tokens(crypto_, settings({{"a", std::string(kSecretA)}}), clock_.clock());
  EXPECT_THROW(static_cast<void>(tokens.issue(0, Role::kUser)), std::invalid_argument);
}

TEST(AccessTokenKeyId, IsStableShortHexAndDiffersPerSecret) {
  const std::string id = AccessTokens::derive_key_id(kSecretA);
  EXPECT_EQ(id, AccessTokens::derive_key_id(kSecretA));
  EXPECT_EQ(id.size(), 16U);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(id, AccessTokens::derive_key_id(kSecretB));
  EXPECT_EQ(kSecretA.find(id), std::string::npos);
}

TEST(TokenFailure, NamesAreStable) {
  EXPECT_EQ(to_string(TokenFailure::kExpired), "expired");
  EXPECT_EQ(to_string(TokenFailure::kUnsupportedAlgorithm), "unsupported_algorithm");
  EXPECT_EQ(to_string(Role::kAdmin), "admin");
  EXPECT_EQ(to_string(Role::kUser), "user");
}

}  // namespace
}  // namespace evolveai::services::auth

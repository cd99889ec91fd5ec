#include "support/telegram_signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <fmt/format.h>

namespace evolveai::testing {
namespace {

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &length);
  return {reinterpret_cast<const char*>(out), length};
}

std::string to_hex(const std::string& bytes) {
  std::string hex;
  for (const unsigned char c : bytes) {
    hex += fmt::format("{:02x}", c);
  }
  return hex;
}

std::string check_string(const std::map<std::string, std::string>& fields) {
  std::string text;
  for (const auto& [key, value] : fields) {
    if (key == "hash") {
      continue;
    }
    text += (text.empty() ? "" : "\n") + key + "=" + value;
  }
  return text;
}

}  // namespace

std::string url_encode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string sign_init_data(const std::string& bot_token, std::map<std::string, std::string> fields) {
  const auto secret = hmac_sha256("WebAppData", bot_token);
  fields["hash"] = to_hex(hmac_sha256(secret, check_string(fields)));
  std::string query;
  for (const auto& [key, value] : fields) {
    query += (query.empty() ? "" : "&") + key + "=" + url_encode(value);
  }
  return query;
}

std::string init_data_for(const std::string& bot_token, std::int64_t telegram_id, const std::string& first_name,
                          std::int64_t auth_date) {
  return sign_init_data(bot_token, {{"auth_date", std::to_string(auth_date)},
                                    {"query_id", "AAH-test"},
                                    {"user", fmt::format(R"({{"id":{},"first_name":"{}","username":"u{}",)"
                                                         R"("language_code":"en"}})",
                                                         telegram_id, first_name, telegram_id)}});
}

std::map<std::string, std::string> sign_login_widget(const std::string& bot_token,
                                                     std::map<std::string, std::string> fields) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bot_token.data()), bot_token.size(), digest);
  const std::string key(reinterpret_cast<const char*>(digest), sizeof(digest));
  fields["hash"] = to_hex(hmac_sha256(key, check_string(fields)));
  return fields;
}

}  // namespace evolveai::testing

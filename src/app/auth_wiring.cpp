#include "app/auth_wiring.hpp"

namespace evolveai::app {
namespace {

services::auth::FreshnessPolicy freshness(const Config& config) {
  return {config.auth.init_data_max_age, config.auth.clock_skew};
}

}  // namespace

services::auth::AccessTokenSettings access_token_settings(const Config& config) {
  services::auth::AccessTokenSettings settings;
  const auto& secret = config.auth.jwt_secret;
  settings.keys.push_back({services::auth::AccessTokens::derive_key_id(secret), secret});
  settings.ttl = config.auth.jwt_ttl;
  settings.clock_skew = config.auth.clock_skew;
  settings.verified_cache = static_cast<std::size_t>(config.auth.verified_token_cache);
  return settings;
}

std::unique_ptr<services::auth::InitDataVerifier> make_init_data_verifier(const services::auth::CryptoInit& crypto,
                                                                          const Config& config) {
  if (config.telegram.bot_token.empty() && config.auth.bot_id <= 0) {
    return nullptr;
  }
  services::auth::InitDataVerifierOptions options;
  options.bot_token = config.telegram.bot_token;
  options.bot_id = config.auth.bot_id;
  options.freshness = freshness(config);
  return std::make_unique<services::auth::InitDataVerifier>(crypto, options);
}

std::unique_ptr<services::auth::LoginWidgetVerifier> make_login_widget_verifier(const Config& config) {
  if (config.telegram.bot_token.empty()) {
    return nullptr;
  }
  services::auth::LoginWidgetVerifierOptions options;
  options.bot_token = config.telegram.bot_token;
  options.freshness = freshness(config);
  return std::make_unique<services::auth::LoginWidgetVerifier>(options);
}

}  // namespace evolveai::app

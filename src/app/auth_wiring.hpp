#pragma once

#include <memory>

#include "app/config.hpp"
#include "services/auth/access_tokens.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/telegram_init_data.hpp"
#include "services/auth/telegram_login_widget.hpp"

namespace evolveai::app {

/// Token settings from `[auth]`: one HS256 key named by a kid derived from the secret.
services::auth::AccessTokenSettings access_token_settings(const Config& config);

/// The Mini App init-data verifier, or null when neither a bot token nor a bot id is configured.
std::unique_ptr<services::auth::InitDataVerifier> make_init_data_verifier(const services::auth::CryptoInit& crypto,
                                                                          const Config& config);

/// The Login Widget verifier, or null without a bot token.
std::unique_ptr<services::auth::LoginWidgetVerifier> make_login_widget_verifier(const Config& config);

}  // namespace evolveai::app

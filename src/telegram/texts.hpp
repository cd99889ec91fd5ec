#pragma once

#include <fmt/format.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace evolveai::telegram {

/// The languages the bot speaks.
enum class Lang { kEn, kRu };

/// The language for a Telegram language_code: Russian for "ru…", English otherwise.
[[nodiscard]] Lang language_of(const std::optional<std::string>& language_code) noexcept;

/// Every text the bot sends, by purpose. Placeholders are fmt's `{}` in argument order.
enum class Text {
  kWelcome,          ///< {first_name}
  kWelcomeDeepLink,  ///< {payload}
  kOpenApp,          ///< button label
  kHelp,
  kProfile,        ///< {first_name} {premium_line} {usage_line}
  kPremiumActive,  ///< {until}
  kPremiumInactive,
  kUsageLimited,        ///< {used} {limit}
  kUsageUnlimited,      ///< {used}
  kPremiumPlans,        ///< header of /premium
  kPlanLine,            ///< {days} {stars}
  kInvoiceTitle,        ///< {days}
  kInvoiceDescription,  ///< {days}
  kResetConfirm,
  kResetYes,
  kResetNo,
  kResetDone,
  kResetCancelled,
  kMemoryEmpty,
  kMemoryFacts,    ///< header
  kMemorySummary,  ///< header
  kVoiceOn,
  kVoiceOff,
  kSearchUsage,
  kSearchNothing,
  kSearchResults,  ///< header
  kPaySupport,
  kQuotaExceeded,  ///< {resets_at}
  kRateLimited,    ///< {seconds}
  kNotConfigured,
  kUpstreamFailed,
  kPaymentThanks,  ///< {until}
  kPaymentRefunded,
  kCheckoutUnknownPlan,
  kCheckoutWrongPrice,
  kCheckoutNotAllowed,
  kPhotoDefaultPrompt,
  kVoiceDefaultPrompt,
  kFileTooLarge,
  kUnknownCommand,
  kInvalidInput,  ///< {reason}
  kVoiceQuotaUsed,
};

/// The template of a text in a language.
[[nodiscard]] std::string_view text_template(Lang lang, Text text) noexcept;

/// A text with its placeholders filled.
template <typename... Args>
[[nodiscard]] std::string tr(Lang lang, Text text, const Args&... args) {
  return fmt::format(fmt::runtime(text_template(lang, text)), args...);
}

/// A bot command as the menu lists it.
struct CommandInfo {
  std::string_view command;
  std::string_view description;
};

/// The commands for `setMyCommands`, described in `lang`.
[[nodiscard]] std::array<CommandInfo, 9> command_menu(Lang lang) noexcept;

}  // namespace evolveai::telegram

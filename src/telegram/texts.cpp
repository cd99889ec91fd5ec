#include "telegram/texts.hpp"

namespace evolveai::telegram {
namespace {

std::string_view english(Text text) noexcept {
  switch (text) {
    case Text::kWelcome:
      return "Hi, {}! I'm your EvolveAI companion. Write to me about anything — I remember what you tell me.\n"
             "Send /help to see what I can do.";
    case Text::kWelcomeDeepLink: return "You came with the code \"{}\".";
    case Text::kOpenApp: return "Open the app";
    case Text::kHelp:
      return "Just write to me, send a photo or a voice message.\n\n"
             "/profile — your usage and premium\n/premium — get premium\n/memory — what I know about you\n"
             "/voice — voice replies on or off\n/search <text> — search our chat\n/reset — make me forget everything\n"
             "/paysupport — help with payments";
    case Text::kProfile: return "{}\n{}\n{}";
    case Text::kPremiumActive: return "Premium is active until {}.";
    case Text::kPremiumInactive: return "No premium yet: /premium";
    case Text::kUsageLimited: return "Messages today: {} of {}.";
    case Text::kUsageUnlimited: return "Messages today: {} (unlimited).";
    case Text::kPremiumPlans: return "Premium: unlimited messages and voice replies.";
    case Text::kPlanLine: return "{} days for {} Stars";
    case Text::kInvoiceTitle: return "Premium for {} days";
    case Text::kInvoiceDescription: return "Unlimited messages and voice replies for {} days.";
    case Text::kResetConfirm:
      return "Forget our whole conversation and everything I know about you? This cannot be undone.";
    case Text::kResetYes: return "Yes, forget";
    case Text::kResetNo: return "Cancel";
    case Text::kResetDone: return "Done: I have forgotten everything. Let's start afresh!";
    case Text::kResetCancelled: return "Nothing was forgotten.";
    case Text::kMemoryEmpty: return "I don't know anything about you yet.";
    case Text::kMemoryFacts: return "What I know about you:";
    case Text::kMemorySummary: return "What we talked about:";
    case Text::kVoiceOn: return "Voice replies are on.";
    case Text::kVoiceOff: return "Voice replies are off.";
    case Text::kSearchUsage: return "Write what to look for: /search <text>";
    case Text::kSearchNothing: return "Nothing found.";
    case Text::kSearchResults: return "Found:";
    case Text::kPaySupport:
      return "Payment questions? Write to us here describing the problem and the date of the payment; "
             "refunds are made through Telegram Stars.";
    case Text::kQuotaExceeded:
      return "You have used today's free messages. They come back at {} (UTC). Premium has no limit:";
    case Text::kRateLimited: return "You're writing very fast — please wait {} s.";
    case Text::kNotConfigured: return "I can't answer right now: no model is configured.";
    case Text::kUpstreamFailed: return "Sorry, I couldn't answer just now. Please try again in a moment.";
    case Text::kPaymentThanks: return "Thank you! Premium is active until {}.";
    case Text::kPaymentRefunded: return "Your payment was refunded and its premium days were taken back.";
    case Text::kCheckoutUnknownPlan: return "This plan is no longer on sale.";
    case Text::kCheckoutWrongPrice: return "The price has changed; please ask for a new invoice with /premium.";
    case Text::kCheckoutNotAllowed: return "This payment cannot be accepted.";
    case Text::kPhotoDefaultPrompt: return "What do you see in this picture?";
    case Text::kVoiceDefaultPrompt: return "(voice message)";
    case Text::kFileTooLarge: return "That file is too large for me.";
    case Text::kUnknownCommand: return "I don't know that command. /help";
    case Text::kInvalidInput: return "I can't take that: {}";
    case Text::kVoiceQuotaUsed: return "Today's free voice replies are used up; premium has no limit.";
  }
  return "";
}

std::string_view russian(Text text) noexcept {
  switch (text) {
    case Text::kWelcome:
      return "Привет, {}! Я твой собеседник EvolveAI. Пиши мне о чём угодно — я запоминаю, что ты рассказываешь.\n"
             "Отправь /help, чтобы узнать, что я умею.";
    case Text::kWelcomeDeepLink: return "Ты пришёл по коду «{}».";
    case Text::kOpenApp: return "Открыть приложение";
    case Text::kHelp:
      return "Просто напиши мне, пришли фото или голосовое сообщение.\n\n"
             "/profile — лимиты и премиум\n/premium — купить премиум\n/memory — что я о тебе знаю\n"
             "/voice — голосовые ответы вкл/выкл\n/search <текст> — поиск по переписке\n/reset — забыть всё\n"
             "/paysupport — помощь с оплатой";
    case Text::kProfile: return "{}\n{}\n{}";
    case Text::kPremiumActive: return "Премиум активен до {}.";
    case Text::kPremiumInactive: return "Премиума пока нет: /premium";
    case Text::kUsageLimited: return "Сообщений сегодня: {} из {}.";
    case Text::kUsageUnlimited: return "Сообщений сегодня: {} (без ограничений).";
    case Text::kPremiumPlans: return "Премиум: сообщения без ограничений и голосовые ответы.";
    case Text::kPlanLine: return "{} дн. за {} звёзд";
    case Text::kInvoiceTitle: return "Премиум на {} дн.";
    case Text::kInvoiceDescription: return "Сообщения без ограничений и голосовые ответы на {} дн.";
    case Text::kResetConfirm: return "Забыть весь наш разговор и всё, что я о тебе знаю? Это нельзя отменить.";
    case Text::kResetYes: return "Да, забыть";
    case Text::kResetNo: return "Отмена";
    case Text::kResetDone: return "Готово: я всё забыл. Начнём сначала!";
    case Text::kResetCancelled: return "Ничего не забыто.";
    case Text::kMemoryEmpty: return "Я пока ничего о тебе не знаю.";
    case Text::kMemoryFacts: return "Что я о тебе знаю:";
    case Text::kMemorySummary: return "О чём мы говорили:";
    case Text::kVoiceOn: return "Голосовые ответы включены.";
    case Text::kVoiceOff: return "Голосовые ответы выключены.";
    case Text::kSearchUsage: return "Напиши, что искать: /search <текст>";
    case Text::kSearchNothing: return "Ничего не найдено.";
    case Text::kSearchResults: return "Нашлось:";
    case Text::kPaySupport:
      return "Вопросы об оплате? Напиши сюда, в чём проблема и когда был платёж; "
             "возврат делается через Telegram Stars.";
    case Text::kQuotaExceeded:
      return "Бесплатные сообщения на сегодня закончились. Они вернутся в {} (UTC). С премиумом ограничений нет:";
    case Text::kRateLimited: return "Ты пишешь очень быстро — подожди {} с.";
    case Text::kNotConfigured: return "Сейчас я не могу ответить: модель не настроена.";
    case Text::kUpstreamFailed: return "Извини, не получилось ответить. Попробуй ещё раз чуть позже.";
    case Text::kPaymentThanks: return "Спасибо! Премиум активен до {}.";
    case Text::kPaymentRefunded: return "Платёж возвращён, его дни премиума сняты.";
    case Text::kCheckoutUnknownPlan: return "Этот тариф больше не продаётся.";
    case Text::kCheckoutWrongPrice: return "Цена изменилась; запроси новый счёт командой /premium.";
    case Text::kCheckoutNotAllowed: return "Этот платёж нельзя принять.";
    case Text::kPhotoDefaultPrompt: return "Что ты видишь на этой картинке?";
    case Text::kVoiceDefaultPrompt: return "(голосовое сообщение)";
    case Text::kFileTooLarge: return "Этот файл для меня слишком большой.";
    case Text::kUnknownCommand: return "Я не знаю такой команды. /help";
    case Text::kInvalidInput: return "Не могу это принять: {}";
    case Text::kVoiceQuotaUsed:
      return "Бесплатные голосовые ответы на сегодня закончились; с премиумом ограничений нет.";
  }
  return "";
}

}  // namespace

Lang language_of(const std::optional<std::string>& language_code) noexcept {
  if (language_code && language_code->size() >= 2 && language_code->compare(0, 2, "ru") == 0) {
    return Lang::kRu;
  }
  return Lang::kEn;
}

std::string_view text_template(Lang lang, Text text) noexcept {
  return lang == Lang::kRu ? russian(text) : english(text);
}

std::array<CommandInfo, 9> command_menu(Lang lang) noexcept {
  if (lang == Lang::kRu) {
    return {{{"start", "Начать"},
             {"help", "Что я умею"},
             {"profile", "Лимиты и премиум"},
             {"premium", "Купить премиум"},
             {"memory", "Что я о тебе знаю"},
             {"voice", "Голосовые ответы вкл/выкл"},
             {"search", "Поиск по переписке"},
             {"reset", "Забыть всё"},
             {"paysupport", "Помощь с оплатой"}}};
  }
  return {{{"start", "Start"},
           {"help", "What I can do"},
           {"profile", "Usage and premium"},
           {"premium", "Get premium"},
           {"memory", "What I know about you"},
           {"voice", "Voice replies on or off"},
           {"search", "Search our chat"},
           {"reset", "Forget everything"},
           {"paysupport", "Help with payments"}}};
}

}  // namespace evolveai::telegram

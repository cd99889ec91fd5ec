#include "services/context_builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <utility>

#include "core/utf8.hpp"

namespace evolveai::services {
namespace {

/// Role markers and framing around each message, as tokens.
constexpr std::size_t kMessageOverhead = 4;
/// What providers charge for one inline image, roughly.
constexpr std::size_t kImageTokens = 258;

struct PersonaText {
  std::string_view name;
  std::string_view text;
};

constexpr std::array<PersonaText, 5> kPersonas{{
    {"friend", "Be a caring, easy-going friend: warm, curious about the user's life, supportive and informal."},
    {"mentor", "Be a thoughtful mentor: patient and wise, asking good questions and sharing practical advice."},
    {"coach", "Be an encouraging coach: practical and goal-oriented, helping the user find concrete next steps."},
    {"playful", "Be a playful companion: witty and light-hearted, fond of gentle humour, never mean."},
    {"calm", "Be a calm, soothing presence: gentle and unhurried, helping the user relax and reflect."},
}};

struct LanguageName {
  std::string_view code;
  std::string_view name;
};

constexpr std::array<LanguageName, 24> kLanguages{{
    {"ar", "Arabic"},  {"be", "Belarusian"}, {"de", "German"},  {"en", "English"}, {"es", "Spanish"},
    {"fa", "Persian"}, {"fr", "French"},     {"he", "Hebrew"},  {"hi", "Hindi"},   {"id", "Indonesian"},
    {"it", "Italian"}, {"ja", "Japanese"},   {"kk", "Kazakh"},  {"ko", "Korean"},  {"nl", "Dutch"},
    {"pl", "Polish"},  {"pt", "Portuguese"}, {"ru", "Russian"}, {"tr", "Turkish"}, {"uk", "Ukrainian"},
    {"uz", "Uzbek"},   {"vi", "Vietnamese"}, {"zh", "Chinese"}, {"sr", "Serbian"},
}};

std::string language_instruction(std::string_view code) {
  if (code.empty() || code == "auto") {
    return "Reply in the language of the user's latest message.";
  }
  for (const auto& language : kLanguages) {
    if (language.code == code) {
      return fmt::format("Always reply in {}, whatever language the user writes in.", language.name);
    }
  }
  return fmt::format("Always reply in the language with ISO 639-1 code \"{}\", whatever language the user writes in.",
                     code);
}

/// The first `max_chars` characters of valid UTF-8 text, with an ellipsis when cut.
std::string cut_text(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) {
      if (chars == max_chars) {
        return std::string(text.substr(0, i)) + "\u2026";
      }
      ++chars;
    }
  }
  return std::string(text);
}

/// One line of text: line breaks and runs of spaces become single spaces.
std::string single_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
  }
  return out;
}

std::string day_of(storage::Time time) {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(time)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                     static_cast<unsigned>(day.day()));
}

/// What a stored message contributes as a conversation turn.
std::string turn_text(const storage::Message& message) {
  if (message.has_image && message.role == storage::Role::kUser) {
    return message.content + "\n[The user attached an image to this message.]";
  }
  return message.content;
}

ai::Role ai_role(storage::Role role) {
  return role == storage::Role::kAssistant ? ai::Role::kAssistant : ai::Role::kUser;
}

std::size_t message_tokens(std::string_view text) {
  return estimate_tokens(text) + kMessageOverhead;
}

/// True when the message may appear in the context at all.
bool usable(const storage::Message& message, storage::MessageId current_id) {
  if (message.status != storage::MessageStatus::kComplete || message.content.empty()) {
    return false;
  }
  return current_id == 0 || message.id < current_id;
}

}  // namespace

std::size_t estimate_tokens(std::string_view text) noexcept {
  return (core::utf8_length(text) + 3) / 4;
}

ContextBuilder::ContextBuilder(ContextBudget budget) : budget_(budget) {}

std::string ContextBuilder::persona_instruction(const UserSettings& settings, std::string_view user_name) {
  std::string_view persona = kPersonas.front().text;
  for (const auto& candidate : kPersonas) {
    if (candidate.name == settings.persona) {
      persona = candidate.text;
    }
  }
  std::string text = fmt::format(
      "You are EvolveAI, a personal AI companion who remembers the people you talk with. {}\n"
      "How you talk:\n"
      "- Be warm and natural; write like a person, not like a manual.\n"
      "- Keep replies short unless the user asks for detail or the topic needs it.\n"
      "- Use what you know about the user when it helps, naturally, without reciting it.\n"
      "- Never invent memories or facts about the user; when unsure, ask.\n"
      "- You are an AI; say so honestly when asked. When health, law or money are at stake, suggest a "
      "professional.\n"
      "{}\n",
      persona, language_instruction(settings.reply_language));
  if (!user_name.empty()) {
    text += fmt::format("The user's name is {}.\n", single_line(user_name));
  }
  return text;
}

BuiltContext ContextBuilder::build(const ContextInput& input) const {
  BuiltContext built;
  std::string instruction = persona_instruction(input.settings, input.user_name);
  std::string facts;
  for (const auto& fact : input.facts) {
    if (const auto line = single_line(fact); !line.empty()) {
      facts += fmt::format("- {}\n", line);
    }
  }
  if (!facts.empty()) {
    instruction += "\nWhat you know about the user:\n" + facts;
  }
  if (!input.summary.empty()) {
    instruction += "\nSummary of your earlier conversations with the user:\n" + input.summary + "\n";
  }

  std::size_t fixed = estimate_tokens(instruction) + message_tokens(input.current_text);
  if (input.current_image) {
    fixed += kImageTokens;
  }
  const std::size_t remaining = budget_.token_budget > fixed ? budget_.token_budget - fixed : 0;

  // The history candidates: finished messages before the new one, newest last.
  std::vector<const storage::Message*> history;
  for (const auto& message : input.recent) {
    if (usable(message, input.current_message_id)) {
      history.push_back(&message);
    }
  }

  // Older relevant messages, quoted; never one that is also in the history or repeats the new message.
  std::set<storage::MessageId> seen_ids;
  std::set<std::string> seen_texts{single_line(input.current_text)};
  for (const auto& message : input.recent) {
    seen_ids.insert(message.id);
    seen_texts.insert(single_line(message.content));
  }
  seen_ids.insert(input.current_message_id);
  const std::string relevant_header = "\nEarlier messages that may matter now (quoted from your history):\n";
  const std::size_t relevant_allowance = remaining / 4;
  std::size_t relevant_tokens = estimate_tokens(relevant_header);
  std::string relevant;
  for (const auto& message : input.relevant) {
    if (built.relevant_used >= budget_.relevant_messages) {
      break;
    }
    if (!usable(message, input.current_message_id) || seen_ids.contains(message.id)) {
      continue;
    }
    auto line_text = single_line(message.content);
    if (!seen_texts.insert(line_text).second) {
      continue;
    }
    const auto line = fmt::format("- [{}] {}: \"{}\"\n", day_of(message.created_at),
                                  message.role == storage::Role::kUser ? "the user said" : "you said",
                                  cut_text(line_text, budget_.relevant_message_chars));
    const std::size_t cost = estimate_tokens(line);
    if (relevant_tokens + cost > relevant_allowance) {
      continue;  // a shorter one further down may still fit
    }
    seen_ids.insert(message.id);
    relevant += line;
    relevant_tokens += cost;
    ++built.relevant_used;
  }
  if (built.relevant_used > 0) {
    instruction += relevant_header + relevant;
  } else {
    relevant_tokens = 0;
  }

  // The newest messages that fit what is left, contiguous back from the new one.
  const std::size_t history_allowance = remaining - std::min(remaining, relevant_tokens);
  std::size_t history_tokens = 0;
  std::size_t first_kept = history.size();
  while (first_kept > 0) {
    const std::size_t cost = message_tokens(turn_text(*history[first_kept - 1]));
    if (history_tokens + cost > history_allowance) {
      break;
    }
    history_tokens += cost;
    --first_kept;
  }
  // Providers expect the conversation to open with the user.
  while (first_kept < history.size() && history[first_kept]->role != storage::Role::kUser) {
    history_tokens -= message_tokens(turn_text(*history[first_kept]));
    ++first_kept;
  }

  auto& messages = built.request.messages;
  for (std::size_t i = first_kept; i < history.size(); ++i) {
    const auto& message = *history[i];
    const auto role = ai_role(message.role);
    if (!messages.empty() && messages.back().role == role) {
      messages.back().parts.back().text += "\n\n" + turn_text(message);
    } else {
      messages.push_back(ai::Message{role, {ai::Part::text_part(turn_text(message))}});
    }
    ++built.recent_used;
  }
  if (messages.empty() || messages.back().role != ai::Role::kUser) {
    messages.push_back(ai::Message{ai::Role::kUser, {}});
  }
  auto& current = messages.back().parts;
  if (input.current_image) {
    current.push_back(*input.current_image);
  }
  if (input.current_audio) {
    current.push_back(*input.current_audio);
  }
  current.push_back(ai::Part::text_part(input.current_text));

  built.request.system_instruction = std::move(instruction);
  built.estimated_tokens = fixed + relevant_tokens + history_tokens;
  return built;
}

}  // namespace evolveai::services

#include "storage/store_support.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <unordered_set>

#include "core/errors.hpp"
#include "core/utf8.hpp"

namespace evolveai::storage::support {

std::int64_t to_micros(Time t) noexcept {
  return std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
}

Time from_micros(std::int64_t micros) noexcept {
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::microseconds(micros)));
}

Time store_precision(Time t) noexcept {
  return from_micros(to_micros(t));
}

std::chrono::sys_days utc_day(Time t) noexcept {
  return std::chrono::floor<std::chrono::days>(t);
}

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::chrono::sys_days parse_day(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto field = [&](auto& out, std::size_t width) {
    if (static_cast<std::size_t>(end - p) < width)
      throw std::invalid_argument("bad day");
    auto [q, ec] = std::from_chars(p, p + width, out);
    if (ec != std::errc() || q != p + width)
      throw std::invalid_argument("bad day");
    p = q;
  };
  field(y, 4);
  if (p == end || *p++ != '-')
    throw std::invalid_argument("bad day");
  field(m, 2);
  if (p == end || *p++ != '-')
    throw std::invalid_argument("bad day");
  field(d, 2);
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok())
    throw std::invalid_argument("bad day");
  return std::chrono::sys_days(ymd);
}

namespace {

/// Length of the well-formed UTF-8 sequence at `s[i]`, or 0 when it is malformed.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t* code_point = nullptr) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    if (code_point)
      *code_point = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  if (code_point)
    *code_point = cp;
  return n;
}

bool is_word_byte(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

}  // namespace

void require_storable_text(std::string_view field, std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    throw core::validation_failed(std::string(field), "must not contain NUL characters");
  }
  if (!core::is_valid_utf8(text))
    throw core::validation_failed(std::string(field), "must be valid UTF-8");
}

void require_json_object(std::string_view field, std::string_view text) {
  require_storable_text(field, text);
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object())
    throw core::validation_failed(std::string(field), "must be a JSON object");
}

std::string like_pattern_contains(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

void validate_new_message(const NewMessage& message) {
  require_storable_text("content", message.content);
  if (message.client_message_id) {
    if (message.client_message_id->empty() || message.client_message_id->size() > kMaxClientMessageIdBytes) {
      throw core::validation_failed("client_message_id", "must be 1 to 64 characters");
    }
    require_storable_text("client_message_id", *message.client_message_id);
  }
  if (message.finish_reason) {
    if (message.finish_reason->empty() || message.finish_reason->size() > kMaxFinishReasonBytes) {
      throw core::validation_failed("finish_reason", "must be 1 to 32 characters");
    }
    require_storable_text("finish_reason", *message.finish_reason);
  }
}

void validate_new_payment(const NewPayment& payment) {
  if (payment.charge_id.empty() || payment.charge_id.size() > kMaxChargeIdBytes) {
    throw core::validation_failed("charge_id", "must be 1 to 255 characters");
  }
  require_storable_text("charge_id", payment.charge_id);
  if (payment.provider_charge_id)
    require_storable_text("provider_charge_id", *payment.provider_charge_id);
  require_storable_text("currency", payment.currency);
  require_storable_text("plan", payment.plan);
  if (payment.days <= 0)
    throw core::validation_failed("days", "must be positive");
}

void validate_counter_name(std::string_view name) {
  constexpr std::size_t kMaxCounterName = 32;
  const bool valid = !name.empty() && name.size() <= kMaxCounterName &&
                     std::all_of(name.begin(), name.end(),
                                 [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
  if (!valid) {
    throw core::validation_failed("counter", "a counter name is 1 to 32 characters of a-z, 0-9 and _");
  }
}

std::size_t clamp_limit(std::size_t limit) noexcept {
  return std::clamp<std::size_t>(limit, 1, kMaxPage);
}

std::string string_array_json(const std::vector<std::string>& items) {
  boost::json::array array;
  for (const auto& item : items)
    array.emplace_back(item);
  return boost::json::serialize(array);
}

std::string facts_to_json(const std::vector<Fact>& facts) {
  boost::json::array array;
  array.reserve(facts.size());
  for (const auto& f : facts)
    array.emplace_back(boost::json::object{{"id", f.id}, {"text", f.text}, {"pinned", f.pinned}});
  return boost::json::serialize(array);
}

namespace {

/// A stable id for a fact stored before facts had ids: FNV-1a of its text, in hex.
std::string legacy_fact_id(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "t%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

}  // namespace

std::vector<Fact> facts_from_json(std::string_view json) {
  std::vector<Fact> out;
  boost::system::error_code ec;
  const auto value = boost::json::parse(json, ec);
  if (ec || !value.is_array())
    return out;
  std::unordered_set<std::string> ids;
  for (const auto& item : value.as_array()) {
    Fact fact;
    if (item.is_string()) {
      fact.text = std::string(item.as_string());
    } else if (const auto* object = item.if_object()) {
      const auto* text = object->if_contains("text");
      if (text == nullptr || !text->is_string())
        continue;
      fact.text = std::string(text->as_string());
      if (const auto* id = object->if_contains("id"); id != nullptr && id->is_string())
        fact.id = std::string(id->as_string());
      if (const auto* pinned = object->if_contains("pinned"); pinned != nullptr && pinned->is_bool())
        fact.pinned = pinned->as_bool();
    } else {
      continue;
    }
    if (fact.id.empty())
      fact.id = legacy_fact_id(fact.text);
    // Two equal legacy texts would share an id: the later one gets its position appended.
    if (!ids.insert(fact.id).second) {
      fact.id += "-" + std::to_string(out.size());
      ids.insert(fact.id);
    }
    out.push_back(std::move(fact));
  }
  return out;
}

void validate_facts(const std::vector<Fact>& facts) {
  std::unordered_set<std::string_view> ids;
  for (const auto& f : facts) {
    const bool id_chars_ok = std::all_of(f.id.begin(), f.id.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    });
    if (f.id.empty() || f.id.size() > kMaxFactIdBytes || !id_chars_ok)
      throw core::validation_failed("facts", "fact ids must be 1 to 32 letters, digits, '-' or '_'");
    if (!ids.insert(f.id).second)
      throw core::validation_failed("facts", "fact ids must be unique");
    require_storable_text("facts", f.text);
  }
}

std::string normalize_search_text(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxSearchBytes));
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_sequence(text, i, &cp);
    if (n == 0) {
      out.push_back(' ');
      ++i;
      continue;
    }
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
    const bool marker = cp == 0xE000 || cp == 0xE001;
    if (out.size() + (control || marker ? 1 : n) > kMaxSearchBytes)
      break;
    if (control || marker) {
      out.push_back(' ');
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string fts5_all_terms_query(std::string_view normalized) {
  std::string query;
  std::size_t terms = 0;
  std::size_t i = 0;
  while (i < normalized.size() && terms < kMaxSearchTerms) {
    while (i < normalized.size() && normalized[i] == ' ')
      ++i;
    const std::size_t start = i;
    while (i < normalized.size() && normalized[i] != ' ')
      ++i;
    if (i == start)
      break;
    const std::string_view term = normalized.substr(start, i - start);
    if (!std::any_of(term.begin(), term.end(), [](char c) { return is_word_byte(static_cast<unsigned char>(c)); })) {
      continue;  // pure punctuation finds nothing in either engine
    }
    if (!query.empty())
      query.push_back(' ');
    query.push_back('"');
    for (char c : term) {
      if (c == '"')
        query.push_back('"');
      query.push_back(c);
    }
    query.push_back('"');
    ++terms;
  }
  return query;
}

namespace {

/// Words too common to say what a message is about (English and Russian, as relevant_words
/// spells them): matching on them finds nearly every message and costs the most to rank.
bool is_stop_word(std::string_view word) {
  static constexpr std::array<std::string_view, 72> kStopWords = {
      "about", "after", "again", "and",  "any",  "are",   "because", "been", "but",  "can",  "could", "did",
      "does",  "for",   "from",  "had",  "has",  "have",  "her",     "him",  "his",  "how",  "its",   "just",
      "like",  "not",   "now",   "our",  "out",  "she",   "should",  "tell", "than", "that", "the",   "their",
      "them",  "then",  "there", "they", "this", "too",   "very",    "was",  "were", "what", "when",  "where",
      "which", "who",   "why",   "will", "with", "would", "you",     "your", "все",  "всё",  "вот",   "для",
      "его",   "ещё",   "еще",   "как",  "мне",  "меня",  "она",     "они",  "что",  "это",  "так",   "тебе"};
  return std::find(kStopWords.begin(), kStopWords.end(), word) != kStopWords.end();
}

}  // namespace

std::vector<std::string> relevant_words(std::string_view text) {
  const std::string normalized = normalize_search_text(text);
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  std::size_t i = 0;
  while (i < normalized.size() && words.size() < kMaxRelevantWords) {
    while (i < normalized.size() && !is_word_byte(static_cast<unsigned char>(normalized[i])))
      ++i;
    const std::size_t start = i;
    std::size_t chars = 0;
    while (i < normalized.size() && is_word_byte(static_cast<unsigned char>(normalized[i]))) {
      if ((static_cast<unsigned char>(normalized[i]) & 0xC0) != 0x80)
        ++chars;
      ++i;
    }
    if (chars < 3)
      continue;
    std::string word(normalized.substr(start, i - start));
    std::transform(word.begin(), word.end(), word.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    if (!is_stop_word(word) && seen.insert(word).second)
      words.push_back(std::move(word));
  }
  return words;
}

std::string fts5_any_word_query(const std::vector<std::string>& words) {
  std::string query;
  for (const auto& w : words) {
    if (!query.empty())
      query += " OR ";
    query += '"' + w + '"';  // words hold only letters and digits: no quote to double
  }
  return query;
}

std::string websearch_any_word_query(const std::vector<std::string>& words) {
  std::string query;
  for (const auto& w : words) {
    if (!query.empty())
      query += " or ";
    query += w;
  }
  return query;
}

std::string render_snippet(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 32);
  bool open = false;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw.substr(i).starts_with(kMarkStart)) {
      if (!open)
        out += "<mark>";
      open = true;
      i += kMarkStart.size();
      continue;
    }
    if (raw.substr(i).starts_with(kMarkEnd)) {
      if (open)
        out += "</mark>";
      open = false;
      i += kMarkEnd.size();
      continue;
    }
    switch (raw[i]) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(raw[i]);
    }
    ++i;
  }
  if (open)
    out += "</mark>";
  return out;
}

}  // namespace evolveai::storage::support

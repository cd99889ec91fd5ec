#include "fakes/vcr_cassette.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <stdexcept>

namespace evolveai::testing {

namespace {

namespace json = boost::json;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

/// A recursive-descent reader for block-style YAML, one line at a time.
class YamlReader {
 public:
  explicit YamlReader(std::string_view text) {
    std::size_t at = 0;
    while (at <= text.size()) {
      const auto end = text.find('\n', at);
      std::string line(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line == "...") {
        break;
      }
      if (line != "---") {
        lines_.push_back(std::move(line));
      }
      if (end == std::string_view::npos) {
        break;
      }
      at = end + 1;
    }
  }

  json::value parse() {
    skip_blank();
    if (at_ >= lines_.size()) {
      return nullptr;
    }
    return node(0, true);
  }

 private:
  static std::size_t indent(const std::string& line) {
    std::size_t count = 0;
    while (count < line.size() && line[count] == ' ') {
      ++count;
    }
    return count;
  }

  [[nodiscard]] bool blank(std::size_t index) const {
    const auto& line = lines_[index];
    const auto first = indent(line);
    return first == line.size() || line[first] == '#';
  }

  void skip_blank() {
    while (at_ < lines_.size() && blank(at_)) {
      ++at_;
    }
  }

  static bool is_item(std::string_view content) { return content == "-" || content.starts_with("- "); }

  /// Where the key of a `key: value` line ends, if it is one.
  static std::optional<std::size_t> key_end(std::string_view content) {
    if (content.empty()) {
      return std::nullopt;
    }
    std::size_t from = 0;
    if (content.front() == '\'' || content.front() == '"') {
      const auto close = content.find(content.front(), 1);
      if (close == std::string_view::npos) {
        return std::nullopt;
      }
      from = close + 1;
      if (from < content.size() && content[from] == ':' && (from + 1 == content.size() || content[from + 1] == ' ')) {
        return from;
      }
      return std::nullopt;
    }
    for (std::size_t i = from; i < content.size(); ++i) {
      if (content[i] == ':' && (i + 1 == content.size() || content[i + 1] == ' ')) {
        return i;
      }
    }
    return std::nullopt;
  }

  /// The node starting at the current line; continuation lines of a scalar must be
  /// indented deeper than `parent`.
  json::value node(std::size_t parent, bool top = false) {
    skip_blank();
    const std::size_t column = indent(lines_[at_]);
    const std::string_view content = std::string_view(lines_[at_]).substr(column);
    if (is_item(content)) {
      return sequence(column);
    }
    if (key_end(content)) {
      return mapping(column);
    }
    ++at_;
    return scalar(std::string(content), top ? 0 : parent);
  }

  json::value sequence(std::size_t column) {
    json::array items;
    for (;;) {
      skip_blank();
      if (at_ >= lines_.size() || indent(lines_[at_]) != column) {
        break;
      }
      auto& line = lines_[at_];
      const std::string_view content = std::string_view(line).substr(column);
      if (!is_item(content)) {
        break;
      }
      if (content == "-") {
        ++at_;
        skip_blank();
        if (at_ < lines_.size() && indent(lines_[at_]) > column) {
          items.push_back(node(column));
        } else {
          items.emplace_back(nullptr);
        }
        continue;
      }
      // "- key: value" opens a node two columns further in: blank the dash and read it there.
      line[column] = ' ';
      items.push_back(node(column));
    }
    return items;
  }

  json::value mapping(std::size_t column) {
    json::object object;
    for (;;) {
      skip_blank();
      if (at_ >= lines_.size() || indent(lines_[at_]) != column) {
        break;
      }
      const std::string line = lines_[at_];
      const std::string_view content = std::string_view(line).substr(column);
      if (is_item(content)) {
        break;
      }
      const auto end = key_end(content);
      if (!end) {
        throw std::runtime_error("YAML: expected 'key:' in line: " + line);
      }
      std::string key(trim(content.substr(0, *end)));
      if (key.size() >= 2 && (key.front() == '\'' || key.front() == '"') && key.back() == key.front()) {
        key = key.substr(1, key.size() - 2);
      }
      const std::string rest(trim(content.substr(*end + 1)));
      ++at_;
      if (rest.empty()) {
        skip_blank();
        if (at_ < lines_.size() && indent(lines_[at_]) > column) {
          object[key] = node(column);
        } else if (at_ < lines_.size() && indent(lines_[at_]) == column &&
                   is_item(std::string_view(lines_[at_]).substr(column))) {
          object[key] = sequence(column);
        } else {
          object[key] = nullptr;
        }
      } else if (rest.front() == '|') {
        object[key] = literal(column, rest);
      } else {
        object[key] = scalar(rest, column);
      }
    }
    return object;
  }

  json::value literal(std::size_t parent, std::string_view header) {
    const char chomp = header.size() > 1 ? header[1] : ' ';
    if (header.size() > 2 || (header.size() == 2 && chomp != '+' && chomp != '-')) {
      throw std::runtime_error("YAML: unsupported block scalar header " + std::string(header));
    }
    std::vector<std::string> content;
    std::size_t block_indent = 0;
    while (at_ < lines_.size()) {
      const auto& line = lines_[at_];
      const std::size_t column = indent(line);
      if (column == line.size()) {
        content.emplace_back(line.size() > block_indent && block_indent > 0 ? line.substr(block_indent) : "");
        ++at_;
        continue;
      }
      if (block_indent == 0) {
        if (column <= parent) {
          break;
        }
        block_indent = column;
      }
      if (column < block_indent) {
        break;
      }
      content.push_back(line.substr(block_indent));
      ++at_;
    }
    std::string text;
    for (const auto& line : content) {
      text += line;
      text += '\n';
    }
    if (chomp == '-') {
      while (!text.empty() && text.back() == '\n') {
        text.pop_back();
      }
    } else if (chomp != '+') {
      while (text.size() >= 2 && text[text.size() - 1] == '\n' && text[text.size() - 2] == '\n') {
        text.pop_back();
      }
    }
    return json::string(text);
  }

  /// Joins the continuation lines of a flow scalar as YAML folds them.
  std::string continued(std::string first, std::size_t parent, const std::function<bool(const std::string&)>& done) {
    std::string text = std::move(first);
    while (!done(text) && at_ < lines_.size()) {
      const auto& line = lines_[at_];
      if (indent(line) == line.size()) {
        text += '\n';
        ++at_;
        continue;
      }
      if (indent(line) <= parent) {
        break;
      }
      if (!text.empty() && text.back() != '\n') {
        text += ' ';
      }
      text += std::string(trim(line));
      ++at_;
    }
    return text;
  }

  json::value scalar(std::string first, std::size_t parent) {
    if (first.front() == '\'') {
      const auto closed = [](const std::string& text) {
        for (std::size_t i = 1; i < text.size(); ++i) {
          if (text[i] == '\'') {
            if (i + 1 < text.size() && text[i + 1] == '\'') {
              ++i;
              continue;
            }
            return true;
          }
        }
        return false;
      };
      const std::string text = continued(std::move(first), parent, closed);
      std::string value;
      for (std::size_t i = 1; i < text.size(); ++i) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {
            value += '\'';
            ++i;
            continue;
          }
          break;
        }
        value += text[i];
      }
      return json::string(value);
    }
    if (first.front() == '"') {
      const auto closed = [](const std::string& text) {
        for (std::size_t i = 1; i < text.size(); ++i) {
          if (text[i] == '\\') {
            ++i;
          } else if (text[i] == '"') {
            return true;
          }
        }
        return false;
      };
      const std::string text = continued(std::move(first), parent, closed);
      std::string value;
      for (std::size_t i = 1; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          const char escaped = text[++i];
          value += escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped;
        } else {
          value += text[i];
        }
      }
      return json::string(value);
    }
    const std::string text = continued(std::move(first), parent, [](const std::string&) { return false; });
    if (text == "null" || text == "~") {
      return nullptr;
    }
    if (text == "true" || text == "false") {
      return text == "true";
    }
    const bool integer = !text.empty() && text.size() < 18 &&
                         std::all_of(text.begin() + (text.front() == '-' ? 1 : 0), text.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; }) &&
                         text != "-";
    if (integer) {
      return std::stoll(text);
    }
    return json::string(text);
  }

  std::vector<std::string> lines_;
  std::size_t at_ = 0;
};

const json::value* path(const json::value& root, std::initializer_list<std::string_view> keys) {
  const json::value* at = &root;
  for (const auto key : keys) {
    const auto* object = at->if_object();
    if (object == nullptr) {
      return nullptr;
    }
    at = object->if_contains(key);
    if (at == nullptr) {
      return nullptr;
    }
  }
  return at;
}

}  // namespace

std::string CassetteExchange::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return value;
    }
  }
  return {};
}

json::value parse_simple_yaml(std::string_view yaml) {
  return YamlReader(yaml).parse();
}

std::vector<CassetteExchange> load_cassette(std::string_view yaml) {
  const auto root = parse_simple_yaml(yaml);
  const auto* interactions = path(root, {"interactions"});
  if (interactions == nullptr || !interactions->is_array()) {
    throw std::runtime_error("cassette without interactions");
  }
  std::vector<CassetteExchange> exchanges;
  for (const auto& interaction : interactions->get_array()) {
    CassetteExchange exchange;
    if (const auto* method = path(interaction, {"request", "method"}); method != nullptr && method->is_string()) {
      exchange.method = std::string(method->get_string());
    }
    if (const auto* uri = path(interaction, {"request", "uri"}); uri != nullptr && uri->is_string()) {
      exchange.uri = std::string(uri->get_string());
    }
    if (const auto* body = path(interaction, {"request", "parsed_body"})) {
      exchange.request_body = *body;
    }
    if (const auto* code = path(interaction, {"response", "status", "code"}); code != nullptr && code->is_int64()) {
      exchange.status = static_cast<int>(code->get_int64());
    }
    if (const auto* headers = path(interaction, {"response", "headers"}); headers != nullptr && headers->is_object()) {
      for (const auto& [name, values] : headers->get_object()) {
        std::string lower_name(name);
        std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (values.is_array() && !values.get_array().empty() && values.get_array().front().is_string()) {
          exchange.headers.emplace_back(lower_name, std::string(values.get_array().front().get_string()));
        }
      }
    }
    if (const auto* text = path(interaction, {"response", "body", "string"}); text != nullptr && text->is_string()) {
      exchange.body = std::string(text->get_string());
      exchange.exact_body = true;
    } else if (const auto* parsed = path(interaction, {"response", "parsed_body"})) {
      exchange.body = json::serialize(*parsed);
    }
    exchanges.push_back(std::move(exchange));
  }
  return exchanges;
}

}  // namespace evolveai::testing

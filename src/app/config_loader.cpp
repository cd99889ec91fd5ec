#include "app/config_loader.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <thread>

#include "obs/sentry_dsn.hpp"
#include "services/premium_plans.hpp"

namespace evolveai::app {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEnvPrefix = "EVOLVEAI_";
constexpr std::string_view kFileSuffix = "_FILE";
constexpr std::string_view kJwtSecretFileName = "jwt_secret";
constexpr std::size_t kGeneratedSecretBytes = 48;
constexpr std::size_t kMaxSuggestionDistance = 2;

/// A value converted for its key, or why it could not be.
struct Conversion {
  KeyValue value;
  std::string problem;  ///< empty when `value` is good
};

Conversion good(KeyValue value) {
  return {std::move(value), {}};
}
Conversion bad(std::string problem) {
  return {KeyValue{}, std::move(problem)};
}

/// How a value given for `key` is quoted in a message: secrets never appear.
std::string shown(const KeyDescriptor& key, std::string_view text) {
  return fmt::format("'{}'", key.secret ? std::string_view("***") : text);
}

/// Checks a number (integer, milliseconds or bytes) against the key's range.
Conversion in_range(const KeyDescriptor& key, std::int64_t number, std::string_view given) {
  if (number >= key.min && number <= key.max) {
    return good(number);
  }
  switch (key.type) {
    case KeyType::kPort: return bad(fmt::format("{} is not a valid port ({}-{})", shown(key, given), key.min, key.max));
    case KeyType::kDuration:
      return bad(fmt::format("{} is not a duration between {} and {}", shown(key, given),
                             format_duration(std::chrono::milliseconds(key.min)),
                             format_duration(std::chrono::milliseconds(key.max))));
    case KeyType::kSize:
      return bad(fmt::format("{} is not a size between {} and {}", shown(key, given),
                             format_size(static_cast<std::size_t>(key.min)),
                             format_size(static_cast<std::size_t>(key.max))));
    default: return bad(fmt::format("{} is not an integer between {} and {}", shown(key, given), key.min, key.max));
  }
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  return std::string(text.substr(first, text.find_last_not_of(" \t") - first + 1));
}

constexpr std::string_view kDurationSyntax = "like 250ms, 30s, 10m, 24h, 7d or whole seconds";
constexpr std::string_view kSizeSyntax = "like 512B, 64KiB, 14MiB, 1GiB or whole bytes";

/// Converts text (an environment value, a secret file, a TOML string) for `key`.
Conversion from_text(const KeyDescriptor& key, const std::string& text) {
  switch (key.type) {
    case KeyType::kString:
      if (static_cast<std::int64_t>(text.size()) < key.min) {
        return bad("must not be empty");
      }
      return good(text);
    case KeyType::kEnum:
      if (std::find(key.allowed.begin(), key.allowed.end(), text) == key.allowed.end()) {
        return bad(fmt::format("{} is not one of {}", shown(key, text), key.allowed_text()));
      }
      return good(text);
    case KeyType::kBool:
      if (text == "true" || text == "1") {
        return good(true);
      }
      if (text == "false" || text == "0") {
        return good(false);
      }
      return bad(fmt::format("{} is not a boolean (true, false, 1 or 0)", shown(key, text)));
    case KeyType::kInteger:
    case KeyType::kPort: {
      const auto number = parse_integer(text);
      if (!number && key.type == KeyType::kInteger) {
        return bad(fmt::format("{} is not an integer between {} and {}", shown(key, text), key.min, key.max));
      }
      return in_range(key, number.value_or(-1), text);
    }
    case KeyType::kDuration: {
      const auto duration = parse_duration(text);
      if (!duration) {
        return bad(fmt::format("{} is not a duration ({})", shown(key, text), kDurationSyntax));
      }
      return in_range(key, duration->count(), text);
    }
    case KeyType::kSize: {
      const auto size = parse_size(text);
      if (!size) {
        return bad(fmt::format("{} is not a size ({})", shown(key, text), kSizeSyntax));
      }
      return in_range(key, static_cast<std::int64_t>(*size), text);
    }
    case KeyType::kStringList: {
      std::vector<std::string> items;
      std::string_view rest = text;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string item = trim(rest.substr(0, comma));
        if (!item.empty()) {
          items.push_back(std::move(item));
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      return good(std::move(items));
    }
  }
  return bad("has an unknown type");
}

/// A TOML value described for a message: its type and, for scalars, the value.
std::string describe(const KeyDescriptor& key, const toml::node& node) {
  if (const auto* text = node.as_string()) {
    return "string " + shown(key, text->get());
  }
  if (const auto* number = node.as_integer()) {
    return "integer " + shown(key, std::to_string(number->get()));
  }
  if (const auto* real = node.as_floating_point()) {
    return "float " + shown(key, fmt::format("{}", real->get()));
  }
  if (const auto* flag = node.as_boolean()) {
    return "boolean " + shown(key, flag->get() ? "true" : "false");
  }
  if (node.is_array()) {
    return "an array";
  }
  if (node.is_table()) {
    return "a table";
  }
  return "a date or time";
}

/// Converts a TOML value for `key`, accepting the TOML types the key's syntax allows.
Conversion from_toml(const KeyDescriptor& key, const toml::node& node) {
  const auto* text = node.as_string();
  const auto* number = node.as_integer();
  switch (key.type) {
    case KeyType::kString:
    case KeyType::kEnum:
      if (text != nullptr) {
        return from_text(key, text->get());
      }
      return bad(fmt::format("expected a string, got {}", describe(key, node)));
    case KeyType::kBool:
      if (const auto* flag = node.as_boolean()) {
        return good(flag->get());
      }
      return bad(fmt::format("expected true or false, got {}", describe(key, node)));
    case KeyType::kInteger:
    case KeyType::kPort:
      if (number != nullptr) {
        return in_range(key, number->get(), std::to_string(number->get()));
      }
      return bad(fmt::format("expected an integer between {} and {}, got {}", key.min, key.max, describe(key, node)));
    case KeyType::kDuration:
      if (text != nullptr) {
        return from_text(key, text->get());
      }
      if (number != nullptr) {
        const std::int64_t seconds = number->get();
        const bool fits = seconds >= 0 && seconds <= std::numeric_limits<std::int64_t>::max() / 1000;
        return in_range(key, fits ? seconds * 1000 : -1, std::to_string(seconds));
      }
      return bad(fmt::format("expected a duration ({}), got {}", kDurationSyntax, describe(key, node)));
    case KeyType::kSize:
      if (text != nullptr) {
        return from_text(key, text->get());
      }
      if (number != nullptr) {
        return in_range(key, number->get(), std::to_string(number->get()));
      }
      return bad(fmt::format("expected a size ({}), got {}", kSizeSyntax, describe(key, node)));
    case KeyType::kStringList: {
      const auto* array = node.as_array();
      if (array == nullptr) {
        return bad(fmt::format("expected an array of strings, got {}", describe(key, node)));
      }
      std::vector<std::string> items;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const auto* item = (*array)[i].as_string();
        if (item == nullptr) {
          return bad(fmt::format("expected an array of strings, item {} is {}", i, describe(key, (*array)[i])));
        }
        items.push_back(item->get());
      }
      return good(std::move(items));
    }
  }
  return bad("has an unknown type");
}

/// Edit distance where swapping two neighbouring characters counts as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

/// The known key an unknown dotted name probably meant: a near spelling, or else the only
/// key with the same last part ("port" -> "server.port").
const KeyDescriptor* closest_key(std::string_view name) {
  const KeyDescriptor* best = nullptr;
  std::size_t best_distance = kMaxSuggestionDistance + 1;
  for (const auto& key : config_keys()) {
    const std::size_t distance = edit_distance(name, key.name);
    if (distance < best_distance) {
      best = &key;
      best_distance = distance;
    }
  }
  if (best != nullptr) {
    return best;
  }
  const std::string_view leaf = name.substr(name.rfind('.') == std::string_view::npos ? 0 : name.rfind('.') + 1);
  for (const auto& key : config_keys()) {
    if (key.leaf() == leaf) {
      if (best != nullptr) {
        return nullptr;
      }
      best = &key;
    }
  }
  return best;
}

/// A whole file's content, or why it could not be read.
struct FileText {
  std::string content;
  std::string error;  ///< empty when read
  explicit operator bool() const noexcept { return error.empty(); }
};

FileText read_text(const fs::path& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    return {{}, "it is a directory"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return {{}, std::generic_category().message(errno)};
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return {{}, "read error"};
  }
  return {content.str(), {}};
}

std::string where(const std::string& file, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", file, region.begin.line, region.begin.column);
}

/// Applies sources to one Config and collects every problem and where each key was set.
class Loader {
 public:
  explicit Loader(LoadResult& result) : result_(result) {}

  void read_file(const fs::path& path) {
    const std::string name = path.string();
    std::error_code error;
    if (!fs::exists(path, error)) {
      fail(fmt::format("config file '{}' does not exist", name));
      return;
    }
    const auto text = read_text(path);
    if (!text) {
      fail(fmt::format("cannot read config file '{}': {}", name, text.error));
      return;
    }
    result_.file = path;
    toml::table root;
    try {
      root = toml::parse(text.content, name);
    } catch (const toml::parse_error& syntax) {
      fail(fmt::format("{}: TOML syntax error: {}", where(name, syntax.source()), syntax.description()));
      return;
    }
    // Tables iterate in key order; problems are reported in the order of the file's lines.
    std::vector<std::pair<toml::source_position, std::string>> problems;
    for (const auto& [section_name, section] : root) {
      const auto* table = section.as_table();
      if (table == nullptr) {
        problems.emplace_back(section_name.source().begin,
                              unknown_key_message(std::string(section_name.str()), where(name, section_name.source())));
        continue;
      }
      for (const auto& [leaf, node] : *table) {
        const std::string key_name = fmt::format("{}.{}", section_name.str(), leaf.str());
        const KeyDescriptor* key = find_config_key(key_name);
        std::string problem = key == nullptr ? unknown_key_message(key_name, where(name, leaf.source()))
                                             : apply(*key, from_toml(*key, node), where(name, node.source()));
        if (!problem.empty()) {
          problems.emplace_back(node.source().begin, std::move(problem));
        }
      }
    }
    std::stable_sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) {
      return std::pair(a.first.line, a.first.column) < std::pair(b.first.line, b.first.column);
    });
    for (auto& problem : problems) {
      fail(std::move(problem.second));
    }
  }

  void read_environment(const Environment& environment) {
    std::map<std::string, const KeyDescriptor*, std::less<>> by_var;
    for (const auto& key : config_keys()) {
      by_var.emplace(key.env_var(), &key);
    }
    std::vector<std::pair<const KeyDescriptor*, const std::pair<std::string, std::string>*>> from_files;
    for (const auto& variable : environment) {
      const std::string& var = variable.first;
      if (!var.starts_with(kEnvPrefix)) {
        continue;
      }
      if (const auto found = by_var.find(var); found != by_var.end()) {
        fail(apply(*found->second, from_text(*found->second, variable.second), var));
        continue;
      }
      const bool file_form = var.ends_with(kFileSuffix);
      const std::string_view base = std::string_view(var).substr(0, var.size() - (file_form ? kFileSuffix.size() : 0));
      const auto found = file_form ? by_var.find(base) : by_var.end();
      if (found == by_var.end()) {
        unknown_variable(var, base, file_form);
      } else if (!found->second->secret) {
        fail(fmt::format("{}: {} is not a secret, so it cannot be read from a file; set {} instead", var,
                         found->second->name, base));
      } else {
        from_files.emplace_back(found->second, &variable);
      }
    }
    for (const auto& [key, variable] : from_files) {
      read_secret_file(*key, variable->first, variable->second);
    }
  }

  void resolve() {
    Config& config = result_.config;
    if (config.server.threads == 0) {
      config.server.threads = std::max(1U, std::thread::hardware_concurrency());
    }
    if (config.database.url.empty()) {
      config.database.url = "sqlite://" + (fs::path(config.server.data_dir) / "evolveai.db").string();
    }
    if (config.backup.dir.empty()) {
      config.backup.dir = (fs::path(config.server.data_dir) / "backups").string();
    }
  }

  // Rules joining several keys; each lives here once.
  void check_combinations() {
    const Config& config = result_.config;
    if (!config.auth.jwt_secret.empty() && config.auth.jwt_secret.size() < kMinJwtSecretBytes) {
      fail(fmt::format("auth.jwt_secret: must be at least {} bytes, got {}{}", kMinJwtSecretBytes,
                       config.auth.jwt_secret.size(), origin_of("auth.jwt_secret")));
    }
    if (config.telegram.mode == "webhook") {
      if (config.telegram.webhook_secret.empty()) {
        fail(fmt::format("telegram.webhook_secret: required when telegram.mode is 'webhook'{}",
                         origin_of("telegram.mode")));
      }
      if (config.telegram.public_url.empty()) {
        fail(
            fmt::format("telegram.public_url: required when telegram.mode is 'webhook'{}", origin_of("telegram.mode")));
      }
    }
    for (const auto& plan : config.premium.plans) {
      if (const auto problem = services::PremiumPlans::spec_problem(plan); !problem.empty()) {
        fail(fmt::format("premium.plans: '{}': {}{}", plan, problem, origin_of("premium.plans")));
      }
    }
    if (config.telegram.poll_timeout * 2 > config.telegram.lease_ttl) {
      fail(fmt::format("telegram.poll_timeout: must be at most half of telegram.lease_ttl{}",
                       origin_of("telegram.poll_timeout")));
    }
    if (config.server.roles.empty()) {
      fail(fmt::format("server.roles: name at least one of api, bot, worker{}", origin_of("server.roles")));
    }
    for (const auto& role : config.server.roles) {
      if (role != "api" && role != "bot" && role != "worker") {
        fail(
            fmt::format("server.roles: unknown role '{}'; known: api, bot, worker{}", role, origin_of("server.roles")));
      }
    }
    if (config.tts.engine == "google" && config.tts.api_key.empty()) {
      fail(fmt::format("tts.api_key: required when tts.engine is 'google'{}", origin_of("tts.engine")));
    }
    if (!config.llm.provider.empty() && config.llm.model.empty()) {
      fail(fmt::format("llm.model: required when llm.provider is '{}'{}", config.llm.provider,
                       origin_of("llm.provider")));
    }
    if (!config.observability.sentry_dsn.empty()) {
      // The DSN holds a key: the message names the problem, never the value.
      if (const auto parsed = obs::parse_sentry_dsn(config.observability.sentry_dsn); !parsed.dsn) {
        fail(fmt::format("observability.sentry_dsn: malformed DSN: {}{}", parsed.problem,
                         origin_of("observability.sentry_dsn")));
      }
    }
  }

 private:
  /// Records a problem; an empty message is none.
  void fail(std::string message) {
    if (!message.empty()) {
      result_.errors.push_back(std::move(message));
    }
  }

  /// Sets the key when the conversion succeeded, else returns the problem's message.
  std::string apply(const KeyDescriptor& key, const Conversion& conversion, std::string origin) {
    if (!conversion.problem.empty()) {
      return fmt::format("{}: {} (from {})", key.name, conversion.problem, origin);
    }
    key.set(result_.config, conversion.value);
    origins_[key.name] = std::move(origin);
    return {};
  }

  /// " (set in <source>)" for a key given by some source, else nothing.
  std::string origin_of(std::string_view key_name) const {
    const auto found = origins_.find(key_name);
    return found == origins_.end() ? std::string() : fmt::format(" (set in {})", found->second);
  }

  static std::string unknown_key_message(const std::string& name, const std::string& origin) {
    const KeyDescriptor* guess = closest_key(name);
    return guess == nullptr ? fmt::format("unknown key '{}' in {}", name, origin)
                            : fmt::format("unknown key '{}' in {}; did you mean '{}'?", name, origin, guess->name);
  }

  void unknown_variable(const std::string& var, std::string_view base, bool file_form) {
    std::string guessed_name;
    for (const char c : base.substr(kEnvPrefix.size())) {
      guessed_name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (const auto separator = guessed_name.find("__"); separator != std::string::npos) {
      guessed_name.replace(separator, 2, ".");
    }
    const KeyDescriptor* guess = closest_key(guessed_name);
    if (guess == nullptr) {
      fail(fmt::format("unknown environment variable {}", var));
      return;
    }
    fail(fmt::format("unknown environment variable {}; did you mean {}{}?", var, guess->env_var(),
                     file_form && guess->secret ? kFileSuffix : std::string_view()));
  }

  void read_secret_file(const KeyDescriptor& key, const std::string& var, const std::string& path) {
    const auto text = read_text(path);
    if (!text) {
      fail(fmt::format("{}: cannot read '{}' named by {}: {}", key.name, path, var, text.error));
      return;
    }
    std::string value = text.content;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
      value.pop_back();
    }
    fail(apply(key, from_text(key, value), var));
  }

  LoadResult& result_;
  std::map<std::string_view, std::string> origins_;  // keyed by the names in config_keys()
};

/// A file descriptor closed when it goes out of scope.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Closes now, reporting failure (a late write error shows up here).
  bool close() {
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

[[noreturn]] void fail_secret(const fs::path& path, std::string_view what, int error_number) {
  throw ConfigError({fmt::format("auth.jwt_secret: cannot {} '{}': {}", what, path.string(),
                                 std::generic_category().message(error_number))});
}

std::string new_secret() {
  std::array<unsigned char, kGeneratedSecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw ConfigError({"auth.jwt_secret: the random generator failed"});
  }
  std::string hex;
  for (const unsigned char byte : bytes) {
    hex += fmt::format("{:02x}", byte);
  }
  return hex;
}

/// Creates `path` readable by its owner only (mode set by open, never widened) holding
/// `secret`; false when it already exists.
bool create_secret_file(const fs::path& path, const std::string& secret) {
  FileHandle file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR));
  if (file.get() < 0) {
    if (errno == EEXIST) {
      return false;
    }
    fail_secret(path, "create", errno);
  }
  const std::string content = secret + "\n";
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(file.get(), content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int error_number = errno;
      ::unlink(path.c_str());
      fail_secret(path, "write", error_number);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(file.get()) != 0 || !file.close()) {
    const int error_number = errno;
    ::unlink(path.c_str());
    fail_secret(path, "write", error_number);
  }
  return true;
}

/// Reads a secret file that only its owner may access.
std::string read_secret_file(const fs::path& path) {
  const FileHandle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) {
    fail_secret(path, "open", errno);
  }
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) {
    fail_secret(path, "inspect", errno);
  }
  if (!S_ISREG(info.st_mode)) {
    throw ConfigError({fmt::format("auth.jwt_secret: '{}' is not a regular file", path.string())});
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw ConfigError(
        {fmt::format("auth.jwt_secret: '{}' may be read by group or others (mode {:04o}); "
                     "make it private with chmod 600",
                     path.string(), info.st_mode & 07777)});
  }
  std::string secret;
  std::array<char, 512> buffer{};
  for (;;) {
    const ssize_t n = ::read(file.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail_secret(path, "read", errno);
    }
    if (n == 0) {
      break;
    }
    secret.append(buffer.data(), static_cast<std::size_t>(n));
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.size() < kMinJwtSecretBytes) {
    throw ConfigError(
        {fmt::format("auth.jwt_secret: '{}' holds {} bytes, fewer than {}; delete it to have a new one "
                     "generated",
                     path.string(), secret.size(), kMinJwtSecretBytes)});
  }
  return secret;
}

std::string join(const std::vector<std::string>& messages) {
  std::string out;
  for (const auto& message : messages) {
    out += out.empty() ? "" : "; ";
    out += message;
  }
  return out;
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> messages)
    : std::runtime_error(join(messages)), messages_(std::move(messages)) {}

LoadResult load_config(const ConfigSource& source) {
  LoadResult result;
  Loader loader(result);
  std::error_code error;
  if (source.file) {
    loader.read_file(*source.file);
  } else if (source.fallback_file && fs::exists(*source.fallback_file, error)) {
    loader.read_file(*source.fallback_file);
  }
  loader.read_environment(source.environment);
  loader.resolve();
  loader.check_combinations();
  return result;
}

Environment environment_from(const char* const* envp) {
  Environment environment;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    const std::string_view entry(*envp);
    const auto equals = entry.find('=');
    if (equals != std::string_view::npos) {
      environment.emplace_back(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
    }
  }
  return environment;
}

void ensure_jwt_secret(Config& config) {
  if (!config.auth.jwt_secret.empty()) {
    return;
  }
  const fs::path dir(config.server.data_dir);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    throw ConfigError({fmt::format("server.data_dir: cannot create '{}': {}", dir.string(), error.message())});
  }
  const fs::path path = dir / kJwtSecretFileName;
  if (fs::exists(path, error)) {
    config.auth.jwt_secret = read_secret_file(path);
    return;
  }
  std::string secret = new_secret();
  // Two processes starting together agree: O_EXCL lets one create, the other reads.
  if (!create_secret_file(path, secret)) {
    secret = read_secret_file(path);
  }
  config.auth.jwt_secret = std::move(secret);
}

}  // namespace evolveai::app

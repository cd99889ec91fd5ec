#include "app/cli_admin.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <iomanip>
#include <istream>
#include <ostream>

#include "app/admin_wiring.hpp"
#include "app/command_store.hpp"
#include "cache/local_cache.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/admin_service.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/password_hasher.hpp"
#include "storage/store.hpp"

namespace evolveai::app {
namespace {

constexpr std::size_t kMinUsername = 3;
constexpr std::size_t kMaxUsername = 64;
constexpr std::size_t kMinPassword = 12;

/// Turns terminal echo off while alive (for typing a password), and back on after.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (active_) {
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

/// One line of input without its line end; nullopt at end of input.
std::optional<std::string> read_line(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) {
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

/// The new admin's password: asked twice on a terminal, else the first line of input.
std::optional<std::string> read_password(PasswordInput input, std::ostream& err) {
  if (!input.terminal) {
    return read_line(input.in);
  }
  std::optional<std::string> first;
  std::optional<std::string> second;
  {
    const EchoOff quiet;
    err << "Password: " << std::flush;
    first = read_line(input.in);
    err << "\nRepeat password: " << std::flush;
    second = read_line(input.in);
    err << "\n";
  }
  if (first != second) {
    err << "evolveai: the passwords differ\n";
    return std::nullopt;
  }
  return first;
}

int create_admin(const AdminCommands& commands, const Config& config, PasswordInput input, std::ostream& out,
                 std::ostream& err) {
  if (auto problem = admin_username_problem(commands.username); !problem.empty()) {
    err << "evolveai: " << problem << "\n";
    return kExitBadInput;
  }
  const auto password = read_password(input, err);
  if (!password) {
    err << "evolveai: no password given (type it at the prompt or pipe it on standard input)\n";
    return kExitBadInput;
  }
  if (auto problem = admin_password_problem(*password); !problem.empty()) {
    err << "evolveai: " << problem << "\n";
    return kExitBadInput;
  }

  const services::auth::CryptoInit crypto;
  const services::auth::PasswordHasher hasher(crypto);
  CommandStore command(config);
  if (config.database.migrate_on_start) {
    command.run(command.store().migrate_up());
  }
  const auto hash = hasher.hash(*password);
  const auto admin = command.run(command.store().create_admin(commands.username, hash));
  if (!admin) {
    err << "evolveai: an admin called '" << commands.username << "' already exists\n";
    return kExitBadInput;
  }
  storage::NewAuditEntry audit;
  audit.admin_id = admin->id;
  audit.action = "admin.create";
  audit.target = "admin:" + std::to_string(admin->id);
  audit.details_json = boost::json::serialize(boost::json::object{{"username", admin->username}, {"via", "cli"}});
  command.run(command.store().append_audit(audit));
  out << "created admin '" << admin->username << "' (id " << admin->id << ")\n";
  return 0;
}

std::string optional_time_text(const std::optional<storage::Time>& time) {
  return time ? core::format_rfc3339(*time) : "-";
}

std::optional<bool> yes_no(const std::string& text, std::string_view option) {
  if (text.empty()) {
    return std::nullopt;
  }
  if (text == "true" || text == "yes") {
    return true;
  }
  if (text == "false" || text == "no") {
    return false;
  }
  throw core::validation_failed(std::string(option), "--" + std::string(option) + " must be true or false");
}

void print_users(const services::AdminUserPage& page, std::ostream& out) {
  const auto now = std::chrono::system_clock::now();
  out << std::left << std::setw(8) << "id" << std::setw(14) << "telegram_id" << std::setw(24) << "name" << std::setw(20)
      << "username" << std::setw(8) << "banned"
      << "premium_until\n";
  for (const auto& user : page.users) {
    std::string name = user.first_name;
    if (user.last_name) {
      name += " " + *user.last_name;
    }
    out << std::left << std::setw(8) << user.id << std::setw(14) << user.telegram_id << std::setw(24) << name
        << std::setw(20) << user.username.value_or("-") << std::setw(8) << (user.banned ? "yes" : "no")
        << (user.premium_at(now) ? optional_time_text(user.premium_until) : "-") << "\n";
  }
  if (page.next_cursor) {
    out << "more: --cursor " << *page.next_cursor << "\n";
  }
}

void print_flags(const services::FlagSet& flags, std::ostream& out) {
  for (const auto& [name, state] : flags) {
    out << std::left << std::setw(22) << name << std::setw(5) << (state.enabled ? "on" : "off") << state.percentage
        << "%\n";
  }
}

/// Runs one of the operators' commands through the AdminService, audited as "cli".
int run_operator_command(const AdminCommands& c, const Config& config, std::ostream& out, std::ostream& err) {
  obs::Logger logger(obs::LogLevel::kWarn, obs::Logger::Format::kText, err);
  obs::MetricsRegistry metrics;
  cache::LocalCache cache({}, metrics, logger);
  CommandStore command(config);
  if (config.database.migrate_on_start) {
    command.run(command.store().migrate_up());
  }
  services::FeatureFlags flags(command.store(), cache);
  services::AdminService admin(
      command.store(), flags, nullptr, admin_options(config), &command.blocking(),
      [] { return std::chrono::system_clock::now(); }, logger);
  services::Actor actor;
  actor.via = "cli";

  if (c.users->parsed()) {
    storage::UserListQuery query;
    if (!c.query.empty()) {
      query.text = c.query;
    }
    query.premium = yes_no(c.premium, "premium");
    query.banned = yes_no(c.banned, "banned");
    if (c.cursor > 0) {
      query.before_id = c.cursor;
    }
    query.limit = static_cast<std::size_t>(std::max<std::int64_t>(1, c.limit));
    print_users(command.run(admin.list_users(query)), out);
  } else if (c.grant_premium->parsed()) {
    const auto user = command.run(admin.grant_premium(actor, c.user_id, c.days, c.reason));
    out << "user " << user.id << ": premium until " << optional_time_text(user.premium_until) << "\n";
  } else if (c.revoke_premium->parsed()) {
    const auto user = command.run(admin.revoke_premium(actor, c.user_id, c.reason));
    out << "user " << user.id << ": no premium\n";
  } else if (c.ban->parsed() || c.unban->parsed()) {
    const bool ban = c.ban->parsed();
    const auto user = command.run(admin.set_banned(actor, c.user_id, ban, c.reason));
    out << "user " << user.id << ": " << (user.banned ? "banned" : "not banned") << "\n";
  } else if (c.cleanup->parsed()) {
    const auto deleted = command.run(admin.cleanup(actor, c.older_than_days, c.reason));
    out << "deleted " << deleted << " messages older than " << c.older_than_days << " days\n";
  } else if (c.flags->parsed()) {
    services::FlagSet changes;
    for (const auto& text : c.flag_changes) {
      auto change = parse_flag_change(text);
      if (!change) {
        err << "evolveai: --set takes NAME=on, NAME=off or NAME=PERCENT (0 to 100), not '" << text << "'\n";
        return kExitBadInput;
      }
      changes.insert_or_assign(change->first, change->second);
    }
    print_flags(changes.empty() ? command.run(admin.flags()) : command.run(admin.set_flags(actor, changes, c.reason)),
                out);
  } else {
    return 1;
  }
  return 0;
}

}  // namespace

bool AdminCommands::chosen() const {
  for (const auto* command : {create, users, grant_premium, revoke_premium, ban, unban, cleanup, flags}) {
    if (command != nullptr && command->parsed()) {
      return true;
    }
  }
  return false;
}

std::optional<std::pair<std::string, services::FlagState>> parse_flag_change(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return std::nullopt;
  }
  std::string name(text.substr(0, equals));
  const auto value = text.substr(equals + 1);
  if (value == "on") {
    return std::pair{std::move(name), services::FlagState{true, 100}};
  }
  if (value == "off") {
    return std::pair{std::move(name), services::FlagState{false, 100}};
  }
  int percentage = -1;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), percentage);
  if (ec != std::errc() || ptr != value.data() + value.size() || percentage < 0 || percentage > 100) {
    return std::nullopt;
  }
  return std::pair{std::move(name), services::FlagState{true, percentage}};
}

void add_admin_commands(CLI::App& cli, AdminCommands& commands) {
  auto* admin = cli.add_subcommand("admin", "Operator accounts and the operators' actions");
  admin->require_subcommand(1);
  commands.create = admin->add_subcommand(
      "create", "Create an admin account; the password is read from a prompt or standard input, never an argument");
  commands.create->add_option("-u,--username", commands.username, "The new admin's username")->required();
  commands.create->add_option("-c,--config", commands.config_path, "TOML configuration file");

  commands.users = admin->add_subcommand("users", "List users, newest first");
  commands.users->add_option("-q,--query", commands.query, "Part of a name or username, or a Telegram id");
  commands.users->add_option("--premium", commands.premium, "Only premium (true) or only free (false) users");
  commands.users->add_option("--banned", commands.banned, "Only banned (true) or only not banned (false) users");
  commands.users->add_option("--limit", commands.limit, "Users per page (1 to 100)");
  commands.users->add_option("--cursor", commands.cursor, "Continue after this user id (from the previous page)");

  commands.grant_premium = admin->add_subcommand("grant-premium", "Extend a user's premium by some days");
  commands.grant_premium->add_option("--days", commands.days, "Days of premium (1 to 3650)")->required();
  commands.revoke_premium = admin->add_subcommand("revoke-premium", "End a user's premium now");
  commands.ban = admin->add_subcommand("ban", "Ban a user: tokens stop working, the bot ignores them");
  commands.unban = admin->add_subcommand("unban", "Lift a user's ban");
  for (auto* command : {commands.grant_premium, commands.revoke_premium, commands.ban, commands.unban}) {
    command->add_option("-u,--user", commands.user_id, "The user's id")->required();
  }
  commands.cleanup = admin->add_subcommand("cleanup", "Delete messages older than some days (summaries stay)");
  commands.cleanup->add_option("--older-than-days", commands.older_than_days, "Age in days (1 to 3650)")->required();
  commands.flags = admin->add_subcommand("flags", "Show feature flags, or change them with --set");
  commands.flags->add_option("--set", commands.flag_changes, "NAME=on, NAME=off or NAME=PERCENT; may repeat");
  for (auto* command : {commands.grant_premium, commands.revoke_premium, commands.ban, commands.unban, commands.cleanup,
                        commands.flags}) {
    command->add_option("--reason", commands.reason, "Why, for the audit log");
  }
  for (auto* command : {commands.users, commands.grant_premium, commands.revoke_premium, commands.ban, commands.unban,
                        commands.cleanup, commands.flags}) {
    command->add_option("-c,--config", commands.config_path, "TOML configuration file");
  }
}

int run_admin_command(const AdminCommands& commands, const Config& config, PasswordInput input, std::ostream& out,
                      std::ostream& err) {
  try {
    if (commands.create != nullptr && commands.create->parsed()) {
      return create_admin(commands, config, input, out, err);
    }
    if (commands.users != nullptr) {
      return run_operator_command(commands, config, out, err);
    }
  } catch (const core::Error& e) {
    err << "evolveai: " << e.client_message() << "\n";
    return e.kind() == core::ErrorKind::kNotFound || e.kind() == core::ErrorKind::kValidation ? kExitBadInput : 1;
  } catch (const std::exception& e) {
    err << "evolveai: " << e.what() << "\n";
    return 1;
  }
  return 1;
}

std::string admin_username_problem(std::string_view username) {
  if (username.size() < kMinUsername || username.size() > kMaxUsername) {
    return "the username must be 3 to 64 characters long";
  }
  for (const char c : username) {
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      return "the username may hold only letters a-z, digits, '.', '_' and '-'";
    }
  }
  return {};
}

std::string admin_password_problem(std::string_view password) {
  if (password.size() < kMinPassword) {
    return "the password must be at least 12 characters long";
  }
  if (password.size() > services::auth::PasswordHasher::kMaxPasswordBytes) {
    return "the password is too long";
  }
  return {};
}

}  // namespace evolveai::app

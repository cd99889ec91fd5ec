#include "app/cli_admin.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <istream>
#include <ostream>

#include "app/command_store.hpp"
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

}  // namespace

bool AdminCommands::chosen() const {
  return create != nullptr && create->parsed();
}

void add_admin_commands(CLI::App& cli, AdminCommands& commands) {
  auto* admin = cli.add_subcommand("admin", "Manage operator accounts");
  admin->require_subcommand(1);
  commands.create = admin->add_subcommand(
      "create", "Create an admin account; the password is read from a prompt or standard input, never an argument");
  commands.create->add_option("-u,--username", commands.username, "The new admin's username")->required();
  commands.create->add_option("-c,--config", commands.config_path, "TOML configuration file");
}

int run_admin_command(const AdminCommands& commands, const Config& config, PasswordInput input, std::ostream& out,
                      std::ostream& err) {
  try {
    if (commands.create != nullptr && commands.create->parsed()) {
      return create_admin(commands, config, input, out, err);
    }
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

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "app/application.hpp"
#include "app/build_info.hpp"
#include "app/cli_admin.hpp"
#include "app/cli_doctor.hpp"
#include "app/cli_storage.hpp"
#include "app/config.hpp"
#include "app/config_loader.hpp"

extern char** environ;  // NOLINT: the process environment, read once here

namespace {

using evolveai::app::ConfigError;

/// Loads the configuration from --config (or config/evolveai.toml) and the environment;
/// `roles` (serve --roles, comma-separated) wins over both.
evolveai::app::LoadResult load(const std::string& config_path, const std::string& roles = {}) {
  evolveai::app::ConfigSource source;
  if (!config_path.empty()) {
    source.file = config_path;
  }
  source.fallback_file = std::filesystem::path(evolveai::app::kDefaultConfigFile);
  source.environment = evolveai::app::environment_from(environ);
  if (!roles.empty()) {
    constexpr std::string_view kRolesVariable = "EVOLVEAI_SERVER__ROLES";
    std::erase_if(source.environment, [&](const auto& variable) { return variable.first == kRolesVariable; });
    source.environment.emplace_back(kRolesVariable, roles);
  }
  return evolveai::app::load_config(source);
}

void print_problems(const std::vector<std::string>& problems) {
  std::cerr << "evolveai: the configuration has problems:\n";
  for (const auto& problem : problems) {
    std::cerr << "  - " << problem << "\n";
  }
}

int serve(const std::string& config_path, const std::string& roles) {
  auto loaded = load(config_path, roles);
  if (!loaded.ok()) {
    print_problems(loaded.errors);
    return 2;
  }
  evolveai::app::ensure_jwt_secret(loaded.config);
  evolveai::app::Application application(std::move(loaded.config));
  application.start();
  return application.run();
}

int check_config(const std::string& config_path) {
  const auto loaded = load(config_path);
  std::cout << evolveai::app::render_effective(loaded.config);
  if (!loaded.ok()) {
    print_problems(loaded.errors);
    return 2;
  }
  std::cerr << "evolveai: configuration is valid\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"EvolveAI: a self-hostable AI companion service"};
  cli.require_subcommand(1);
  std::string config_path;

  auto* serve_cmd = cli.add_subcommand("serve", "Serve the HTTP API, the web app, the bot and background jobs");
  serve_cmd->add_option("-c,--config", config_path,
                        "TOML configuration file (default: config/evolveai.toml if present)");
  std::string roles;
  serve_cmd->add_option("--roles", roles,
                        "What this node runs, comma-separated: api, bot, worker (default: server.roles, all three)");

  auto* version_cmd = cli.add_subcommand("version", "Print the version, the commit and the date it was built");

  auto* config_cmd = cli.add_subcommand("config", "Inspect the configuration");
  config_cmd->require_subcommand(1);
  auto* check_cmd =
      config_cmd->add_subcommand("check", "Print the effective configuration (secrets masked) and every problem");
  check_cmd->add_option("-c,--config", config_path, "TOML configuration file");
  auto* example_cmd = config_cmd->add_subcommand(
      "example", "Print a configuration file listing every key with its default and meaning");

  evolveai::app::StorageCommands storage_commands;
  evolveai::app::add_storage_commands(cli, storage_commands);
  evolveai::app::AdminCommands admin_commands;
  evolveai::app::add_admin_commands(cli, admin_commands);
  evolveai::app::DoctorCommand doctor_command;
  evolveai::app::add_doctor_command(cli, doctor_command);

  CLI11_PARSE(cli, argc, argv);

  try {
    if (version_cmd->parsed()) {
      std::cout << "evolveai " << evolveai::app::build_version() << " (commit " << evolveai::app::build_commit()
                << ", built " << evolveai::app::build_date() << ")\n";
      return 0;
    }
    if (example_cmd->parsed()) {
      std::cout << evolveai::app::render_example();
      return 0;
    }
    if (check_cmd->parsed()) {
      return check_config(config_path);
    }
    if (serve_cmd->parsed()) {
      return serve(config_path, roles);
    }
    if (doctor_command.chosen()) {
      return evolveai::app::run_doctor_command(doctor_command, load(doctor_command.config_path), std::cout);
    }
    if (storage_commands.chosen()) {
      auto loaded = load(storage_commands.config_path);
      if (!loaded.ok()) {
        print_problems(loaded.errors);
        return 2;
      }
      return evolveai::app::run_storage_command(storage_commands, loaded.config, std::cout, std::cerr);
    }
    if (admin_commands.chosen()) {
      auto loaded = load(admin_commands.config_path);
      if (!loaded.ok()) {
        print_problems(loaded.errors);
        return 2;
      }
      const evolveai::app::PasswordInput input{std::cin, ::isatty(STDIN_FILENO) == 1};
      return evolveai::app::run_admin_command(admin_commands, loaded.config, input, std::cout, std::cerr);
    }
  } catch (const ConfigError& error) {
    print_problems(error.messages());
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "evolveai: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

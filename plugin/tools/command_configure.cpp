// homepeer configure <device>: remote configuration (patent claim 2) through an admin account:
// max connections, accounts, authentication on/off.
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <vector>

#include "client.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

struct ConfigureOptions {
  CommonOptions common;
  TargetOptions target;
  std::optional<std::uint32_t> max_connections;
  std::vector<std::string> add_accounts;
  std::vector<std::string> remove_accounts;
  std::string authentication;  // "", "required" or "none"
};

// "user:password[:role]": the user ends at the first ':'; a trailing ":admin" or ":user" is the
// role (default user), so a password may itself contain ':'.
Result<AccountUpdate> parse_account(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return make_error(Errc::Config, "--add-account expects user:password[:role]");
  }
  AccountUpdate update;
  update.user = text.substr(0, colon);
  std::string password = text.substr(colon + 1);
  for (const auto role : {AccountRole::Admin, AccountRole::User}) {
    const std::string suffix = ":" + std::string(to_string(role));
    if (password.size() > suffix.size() && password.ends_with(suffix)) {
      password.resize(password.size() - suffix.size());
      update.role = role;
      break;
    }
  }
  update.password = std::move(password);
  return update;
}

int run_configure(const ConfigureOptions& options) {
  setup_logging(options.common);
  Configure request;
  request.max_connections = options.max_connections;
  if (!options.authentication.empty()) request.auth_required = options.authentication == "required";
  for (const auto& text : options.add_accounts) {
    auto update = parse_account(text);
    if (!update) {
      print_error(update.error().message);
      return kExitUsage;
    }
    request.accounts.push_back(std::move(update).value());
  }
  for (const auto& user : options.remove_accounts) {
    AccountUpdate update;
    update.user = user;
    update.remove = true;
    request.accounts.push_back(std::move(update));
  }
  if (request.accounts.empty() && !request.max_connections && !request.auth_required) {
    print_error("nothing to configure: give --max-connections, --add-account, --remove-account or --authentication");
    return kExitUsage;
  }

  MainLoop loop;
  ClientNode client(options.common, loop);
  ConnectAttempt attempt;
  if (auto failed = start_and_connect(client, loop, options.target, attempt)) return *failed;
  int exit_code = kExitOk;
  auto response = await_call(loop, client.node().configure(attempt.peer_id, std::move(request)),
                             "configure", exit_code);
  finish(client, attempt.peer_id);
  if (!response) return exit_code;

  if (options.common.json) {
    print_line(json_text([&](JsonWriter& w) {
      w.StartObject();
      write_field(w, "result", to_string(response->result));
      write_field(w, "device_id", attempt.peer_id);
      write_field(w, "error", response->error);
      w.EndObject();
    }));
  } else if (response->result == ServiceResult::Ok) {
    print_line(fmt::format("OK: {} ({}) configured", attempt.peer_name, attempt.peer_id));
  }
  if (response->result != ServiceResult::Ok) {
    print_error(fmt::format("{}: configure {}: {}", to_string(response->result), attempt.peer_name,
                            response->error));
    return kExitServiceError;
  }
  return kExitOk;
}

}  // namespace

Command add_configure_command(CLI::App& app) {
  auto options = std::make_shared<ConfigureOptions>();
  CLI::App* command =
      app.add_subcommand("configure", "Configure a device remotely (needs an admin account)");
  add_target_options(*command, options->target, "Device id (UUID) or host:port");
  command->add_option("--max-connections", options->max_connections, "New max parallel connections")
      ->check(CLI::Range(1, 65535));
  command->add_option("--add-account", options->add_accounts,
                      "Add or replace an account: user:password[:admin|:user] (repeatable)");
  command->add_option("--remove-account", options->remove_accounts, "Remove an account (repeatable)");
  command->add_option("--authentication", options->authentication, "Require authentication or not")
      ->check(CLI::IsMember({"required", "none"}));
  add_common_options(*command, options->common, "warn");
  return {command, [options] { return run_configure(*options); }};
}

}  // namespace homep2p::tools

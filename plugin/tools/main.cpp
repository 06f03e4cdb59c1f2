// homepeer: run simulated HomeP2P devices, and discover, connect to and use devices from the
// command line. Usage: docs/HOMEPEER.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "output.hpp"

int main(int argc, char** argv) {
  using namespace homep2p::tools;

  CLI::App app{"homepeer: simulated HomeP2P devices and a command-line client", "homepeer"};
  app.require_subcommand(1);
  // A usage error shows the usage, so that the user sees what was expected.
  app.failure_message(CLI::FailureMessage::help);

  const std::vector<Command> commands{
      add_device_command(app),   add_home_command(app),     add_discover_command(app),
      add_connect_command(app),  add_services_command(app), add_invoke_command(app),
      add_status_command(app),   add_configure_command(app),
  };

  // CLI11 would only say "a subcommand is required" for a misspelt one: name it.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string_view name = argv[1];
    const bool known = std::any_of(commands.begin(), commands.end(),
                                   [&](const Command& c) { return c.app->get_name() == name; });
    if (!known) {
      print_error(fmt::format("unknown command \"{}\"\n{}", name, app.help()));
      return kExitUsage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every other parse error is a usage error, whatever CLI11's own code is.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    try {
      return command.run();
    } catch (const std::exception& e) {
      // The core returns errors as values; this is the last line of defence (e.g. a broken promise).
      print_error(fmt::format("error: {}", e.what()));
      return kExitLocalFailure;
    }
  }
  return kExitUsage;
}

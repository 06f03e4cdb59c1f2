// The homepeer commands. Each add_*_command registers its subcommand and flags on the app and
// returns how to run it once parsed; main() runs the one that was given.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace homep2p::tools {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;  // returns the process exit code (common.hpp)
};

Command add_device_command(CLI::App& app);     // command_device.cpp
Command add_home_command(CLI::App& app);       // command_home.cpp
Command add_discover_command(CLI::App& app);   // command_discover.cpp
Command add_connect_command(CLI::App& app);    // command_connect.cpp
Command add_services_command(CLI::App& app);   // command_service.cpp
Command add_invoke_command(CLI::App& app);     // command_service.cpp
Command add_status_command(CLI::App& app);     // command_status.cpp
Command add_configure_command(CLI::App& app);  // command_configure.cpp

}  // namespace homep2p::tools

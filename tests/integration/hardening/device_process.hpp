// A real `homepeer device` for the hardening tests: its config written to a temp folder, its
// JSON Lines output (--json) parsed for its TCP port and its connection events.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace attack {

inline const std::string kAdminPassword = "admin-password-7f3a";
inline const std::string kUserPassword = "user-password-91c2";

struct DeviceOptions {
  std::string id = "a7000000-0000-4000-8000-0000000000a7";
  std::string name = "Target";
  int max_connections = 8;
  int keepalive = 15;
  std::uint16_t discovery_port = 0;  // 0: a private one (the tests do not use discovery)
};

class DeviceProcess {
 public:
  DeviceProcess(const std::string& dir, const DeviceOptions& o) : options_(o) {
    const std::string path = dir + "/" + o.id + ".yaml";
    const std::uint16_t discovery = o.discovery_port ? o.discovery_port : 20000 + static_cast<std::uint16_t>(::getpid() % 20000);
    std::ofstream(path) << "device: {id: " << o.id << ", type: Plug, name: \"" << o.name << "\"}\n"
                        << "network: {interface: 127.0.0.1, port: 0, multicast_port: " << discovery
                        << ", max_age: 30, keepalive: " << o.keepalive << "}\n"
                        << "security:\n  authentication: required\n  max_connections: " << o.max_connections
                        << "\n  accounts:\n"
                        << "    - {user: admin, password: " << kAdminPassword << ", role: admin}\n"
                        << "    - {user: user, password: " << kUserPassword << ", role: user}\n"
                        << "services: [{id: power, type: SwitchPower}]\n";
    process_ = system_test::ChildProcess({HOMEPEER_BIN, "device", "--config", path, "--json", "--log-level", "debug"},
                                         dir + "/" + o.id + ".log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      for (const auto& line : lines()) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        if (!d.HasParseError() && d.IsObject() && d.HasMember("event") && d["event"] == "started") {
          port_ = static_cast<std::uint16_t>(d["port"].GetInt());
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::uint16_t port() const { return port_; }
  const std::string& id() const { return options_.id; }
  system_test::ChildProcess& process() { return process_; }
  std::string log() const { return process_.log(); }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(process_.log());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // The "connection" events it printed, parsed.
  std::vector<rapidjson::Document> connection_events() const {
    std::vector<rapidjson::Document> out;
    for (const auto& line : lines()) {
      if (line.rfind("{\"event\":\"connection\"", 0) != 0) continue;
      rapidjson::Document d;
      d.Parse(line.c_str());
      if (!d.HasParseError()) out.push_back(std::move(d));
    }
    return out;
  }
  // Its connection count after its last change (0 when it never had one).
  int last_count() const {
    const auto events = connection_events();
    return events.empty() ? 0 : events.back()["count"].GetInt();
  }
  std::size_t count_state(const std::string& state) const {
    std::size_t n = 0;
    for (const auto& e : connection_events()) n += e["state"] == state.c_str() ? 1 : 0;
    return n;
  }
  // Open file descriptors of the process (sockets included).
  std::size_t open_fds() const {
    std::size_t n = 0;
    const std::string dir = "/proc/" + std::to_string(process_.pid()) + "/fd";
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
  }

 private:
  DeviceOptions options_;
  system_test::ChildProcess process_;
  std::uint16_t port_ = 0;
};

}  // namespace attack

// One small home for a bridge system test, all real: a Mosquitto broker on 127.0.0.1 (a free
// port), `homepeer device` processes, `peer2mqtt`, and a Home-Assistant-like MQTT probe. Runs
// inside a network namespace made by in_netns.sh (multicast on its loopback only).
#pragma once

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "child_process.hpp"
#include "mqtt_probe.hpp"

namespace system_test {

inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return doc;
}

struct DeviceSpec {
  std::string id;
  std::string name;
  std::string type = "Light";
  std::string services_yaml = "[]";  // e.g. "[{id: lamp, type: SwitchPower}]"
  int max_connections = 8;
  bool auth = true;
};

inline const std::string kAdminPassword = "admin-password-7f3a";  // unique: grep-able in payloads
inline const std::string kUserPassword = "user-password-91c2";
inline const std::string kWrongPassword = "wrong-password-5d0e";

class BridgeWorld {
 public:
  BridgeWorld() {
    char tmpl[] = "/tmp/peer2mqtt-system-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    broker_port_ = free_port();
    discovery_port_ = free_port();
    server_ = "tcp://127.0.0.1:" + std::to_string(broker_port_);
  }
  ~BridgeWorld() {
    bridge_.kill_now();
    devices_.clear();
    broker_.kill_now();
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
  }

  const std::string& dir() const { return dir_; }
  std::string server() const { return server_; }
  std::uint16_t discovery_port() const { return discovery_port_; }
  // A `homepeer` client command against this home (discovery on its port, on loopback).
  std::vector<std::string> homepeer(std::vector<std::string> args) const {
    std::vector<std::string> argv{HOMEPEER_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--interface", "127.0.0.1", "--discovery-port"}) argv.emplace_back(a);
    argv.push_back(std::to_string(discovery_port_));
    return argv;
  }

  void start_broker() {
    const std::string conf = dir_ + "/mosquitto.conf";
    std::ofstream(conf) << "listener " << broker_port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
    broker_ = ChildProcess({"/usr/sbin/mosquitto", "-c", conf}, dir_ + "/mosquitto.log");
  }
  void stop_broker() {
    broker_.signal(SIGKILL);
    broker_.wait_exit(std::chrono::seconds(5));
  }

  void start_device(const DeviceSpec& spec) {
    const std::string path = dir_ + "/" + spec.id + ".yaml";
    std::ofstream(path) << "device: {id: " << spec.id << ", type: " << spec.type << ", name: \"" << spec.name
                        << "\"}\n"
                        << "network: {interface: 127.0.0.1, port: 0, multicast_port: " << discovery_port_
                        << ", max_age: 4, keepalive: 1}\n"
                        << "security:\n  authentication: " << (spec.auth ? "required" : "none")
                        << "\n  max_connections: " << spec.max_connections << "\n  accounts:\n"
                        << "    - {user: admin, password: " << kAdminPassword << ", role: admin}\n"
                        << "    - {user: user, password: " << kUserPassword << ", role: user}\n"
                        << "credentials:\n  default: {user: admin, password: " << kAdminPassword << "}\n"
                        << "services: " << spec.services_yaml << "\n";
    devices_[spec.id] = std::make_unique<ChildProcess>(
        std::vector<std::string>{HOMEPEER_BIN, "device", "--config", path, "--json", "--log-level", "debug"},
        dir_ + "/" + spec.id + ".log");
  }
  ChildProcess& device(const std::string& id) { return *devices_.at(id); }

  // `wrong_for`: device ids for which the bridge is given a wrong password.
  void start_bridge(const std::vector<std::string>& wrong_for = {}) {
    const std::string path = dir_ + "/configuration.yaml";
    std::ofstream out(path);
    out << "mqtt: {server: \"mqtt://127.0.0.1:" << broker_port_ << "\", base_topic: peer2mqtt}\n"
        << "homeassistant: {enabled: true}\n"
        << "bridge: {id: 5eed0000-0000-4000-8000-00000000b71d, name: test bridge}\n"
        << "network: {interface: 127.0.0.1, multicast_port: " << discovery_port_ << ", max_age: 4, keepalive: 1}\n"
        << "credentials:\n  default: {user: admin, password: " << kAdminPassword << "}\n";
    if (!wrong_for.empty()) {
      out << "  devices:\n";
      for (const auto& id : wrong_for) out << "    " << id << ": {user: admin, password: " << kWrongPassword << "}\n";
    }
    out << "mappings: " << HOMEP2P_SOURCE_DIR << "/mappings\n"
        << "state_file: " << dir_ << "/state.json\n"
        << "log_level: debug\n";
    out.close();
    bridge_ = ChildProcess({PEER2MQTT_BIN, "--config", path}, dir_ + "/peer2mqtt.log");
  }
  ChildProcess& bridge() { return bridge_; }

  std::unique_ptr<MqttProbe> probe(const std::string& name = "ha-probe") {
    auto p = std::make_unique<MqttProbe>(server_, name + "-" + std::to_string(::getpid()));
    return p;
  }

 private:
  std::string dir_;
  std::uint16_t broker_port_ = 0;
  std::uint16_t discovery_port_ = 0;
  std::string server_;
  ChildProcess broker_;
  ChildProcess bridge_;
  std::map<std::string, std::unique_ptr<ChildProcess>> devices_;
};

}  // namespace system_test

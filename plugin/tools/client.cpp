#include "client.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

#include "homep2p/crypto.hpp"
#include "homep2p/device_config.hpp"
#include "homep2p/random_source.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

// A Node's connect() resolves by itself (handshake timeout); this only guards against a runtime
// that never answers, so that homepeer always ends.
constexpr Duration kConnectGuard = seconds(30);
// How long to wait for Node::disconnect() when cleaning up.
constexpr Duration kDisconnectWait = seconds(5);

net::NodeOptions client_options(const CommonOptions& options) {
  net::NodeOptions node_options;
  DeviceConfig& c = node_options.config;
  c.device_id = random_uuid();
  c.device_type = "HomepeerClient";
  c.friendly_name = "homepeer";
  c.interface = options.interface;
  c.multicast_group = options.group;
  c.multicast_port = options.discovery_port;
  // A client accepts no incoming connection: authentication required and no accounts.
  c.auth_required = true;
  node_options.simulated_services = false;
  node_options.announce = false;
  return node_options;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

bool is_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && end == port.data() + port.size() && value >= 1 && value <= 65535;
}

std::optional<net::PeerDevice> find_known(net::Node& node, const std::string& device_id) {
  for (auto& d : node.devices()) {
    if (d.announce.device_id == device_id) return std::move(d);
  }
  return std::nullopt;
}

// Searches for `device_id` (again every MX + 1 s, in case a datagram was lost) until it is known.
std::optional<net::PeerDevice> find_device(net::Node& node, MainLoop& loop, const std::string& device_id,
                                           const TargetOptions& options) {
  const TimePoint deadline = Clock::now() + to_duration(options.timeout);
  SearchConditions conditions;
  conditions.device_id = device_id;
  std::optional<net::PeerDevice> found = find_known(node, device_id);
  while (!found && !loop.interrupted() && Clock::now() < deadline) {
    node.search(conditions, options.mx);
    const TimePoint retry = std::min(deadline, Clock::now() + seconds(options.mx) + seconds(1));
    loop.run_until(
        [&] {
          found = find_known(node, device_id);
          return found.has_value();
        },
        retry);
  }
  return found;
}

}  // namespace

std::string random_uuid() {
  std::array<std::uint8_t, 16> b{};
  OsRandomSource().fill(b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
                     "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                     b[13], b[14], b[15]);
}

ClientNode::ClientNode(const CommonOptions& options, MainLoop& loop)
    : loop_(loop), node_(client_options(options)) {
  // The node's thread only copies the event over; output happens on the main thread.
  node_.on_event([this](const net::NodeEvent& event) {
    loop_.post([this, event] {
      if (handler_) handler_(event);
    });
  });
}

ClientNode::~ClientNode() { stop(); }

Result<void> ClientNode::start() {
  spdlog::debug("client device id {}", node_.device_id());
  return node_.start();
}

void ClientNode::stop() {
  node_.stop();
  // The node's thread has ended: what it posted is all in the loop. The command's handler may
  // refer to state that is about to go away, so those last events are dropped, not handled.
  handler_ = nullptr;
  loop_.drain();
}

void add_target_options(CLI::App& command, TargetOptions& options, std::string_view what) {
  command.add_option("device", options.target, std::string(what))->required();
  auto* user = command.add_option("--user", options.user, "Account name on the device");
  auto* password = command.add_option("--password", options.password, "Password of that account");
  user->needs(password);
  password->needs(user);
  command.add_option("--timeout", options.timeout, "Seconds to find the device by its id")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  command.add_option("--mx", options.mx, "MX of the device search: answer within S seconds")
      ->capture_default_str()
      ->check(CLI::Range(0, static_cast<int>(kMaxMx)));
}

ConnectAttempt connect_to_target(ClientNode& client, MainLoop& loop, const TargetOptions& options) {
  ConnectAttempt attempt;
  net::Node& node = client.node();
  const std::string id = lower(options.target);
  if (is_uuid(id)) {
    attempt.peer_id = id;
    attempt.peer_name = id;
    const auto device = find_device(node, loop, id, options);
    if (!device) {
      attempt.exit_code = loop.interrupted() ? kExitInterrupted : kExitLocalFailure;
      attempt.error = loop.interrupted()
                          ? "interrupted"
                          : fmt::format("device not found: {} did not answer within {} s", id,
                                        options.timeout);
      return attempt;
    }
    attempt.peer_name = device->announce.friendly_name;
  } else if (is_host_port(options.target)) {
    attempt.peer_name = options.target;
  } else {
    attempt.exit_code = kExitUsage;
    attempt.error = fmt::format("expected a device id (UUID) or host:port, got \"{}\"", options.target);
    return attempt;
  }

  std::optional<Credential> credential;
  if (!options.user.empty()) {
    credential = Credential{options.user, derive_share_key(options.password, options.user)};
  }
  auto future = node.connect(attempt.peer_id.empty() ? options.target : attempt.peer_id, credential);
  auto outcome = wait_future(loop, future, Clock::now() + kConnectGuard);
  if (!outcome) {
    attempt.exit_code = loop.interrupted() ? kExitInterrupted : kExitLocalFailure;
    attempt.error = loop.interrupted() ? "interrupted"
                                       : fmt::format("LOCAL:timeout: no answer from {}", attempt.peer_name);
    return attempt;
  }
  if (!outcome->peer_id.empty()) attempt.peer_id = outcome->peer_id;
  attempt.outcome = *outcome;
  if (outcome->connected) return attempt;

  const bool refused = outcome->result && (*outcome->result == ConnectResult::Overload ||
                                           *outcome->result == ConnectResult::AccessDenied);
  attempt.exit_code = refused ? kExitRefused : kExitLocalFailure;
  const std::string who = attempt.peer_id.empty() || attempt.peer_name == attempt.peer_id
                              ? attempt.peer_name
                              : fmt::format("{} ({})", attempt.peer_name, attempt.peer_id);
  attempt.error = fmt::format("{}: {} {}{}", outcome->summary(),
                              refused ? "refused by" : "could not connect to", who,
                              outcome->detail.empty() ? "" : " - " + outcome->detail);
  return attempt;
}

std::optional<int> start_and_connect(ClientNode& client, MainLoop& loop, const TargetOptions& options,
                                     ConnectAttempt& attempt) {
  if (auto started = client.start(); !started) {
    print_error(fmt::format("could not start: {}", started.error().message));
    return kExitLocalFailure;
  }
  attempt = connect_to_target(client, loop, options);
  if (attempt.exit_code != kExitOk) {
    print_error(attempt.error);
    client.stop();
    return attempt.exit_code;
  }
  return std::nullopt;
}

void release_quietly(ClientNode& client, const std::string& peer_id, const std::string& lease_id) {
  auto future = client.node().release(peer_id, lease_id);
  if (future.wait_for(kCallGuard) != std::future_status::ready) {
    spdlog::warn("release of lease on {}: no answer", peer_id);
    return;
  }
  auto result = future.get();
  if (!result) spdlog::warn("release of lease on {}: {}", peer_id, result.error().message);
}

void finish(ClientNode& client, const std::string& peer_id) {
  disconnect_quietly(client, peer_id);
  client.stop();
}

void print_call_error(std::string_view what, std::string_view why) {
  print_error(fmt::format("{}: {}", what, why));
}

void disconnect_quietly(ClientNode& client, const std::string& peer_id) {
  auto future = client.node().disconnect(peer_id);
  if (future.wait_for(kDisconnectWait) != std::future_status::ready) {
    spdlog::warn("disconnect from {}: no answer", peer_id);
    return;
  }
  auto result = future.get();
  if (!result) spdlog::debug("disconnect from {}: {}", peer_id, result.error().message);
}

}  // namespace homep2p::tools

// discovery_node: one device taking part in discovery over a real UDP multicast socket, for the
// integration tests (DiscoveryAgent + MulticastChannel + a timer, nothing else). It announces
// itself, optionally searches, and prints what it learns on stdout, one JSON object per line:
//   {"event":"ready","device_id":...,"unicast":"127.0.0.1:40123"}
//   {"event":"appeared"|"updated"|"left"|"search_answer","device_id":...,...}
//   {"event":"stopped"}
// It stops after --seconds, or on SIGTERM/SIGINT; either way it sends its DeviceByeBye first.
// Logs go to stderr. Run it only on loopback or inside a network namespace the test made.
#include <CLI/CLI.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "homep2p/discovery_agent.hpp"
#include "homep2p/net/multicast_channel.hpp"
#include "homep2p/random_source.hpp"

namespace {

using homep2p::Clock;
using homep2p::DiscoveryAgent;
using homep2p::DiscoveryEvent;
using homep2p::DiscoveryOutput;
using homep2p::net::MulticastChannel;

struct Options {
  std::string device_id;
  std::string name;
  std::string type;
  std::string interface = "127.0.0.1";
  double seconds = 10;
  bool search = false;
  std::string search_device_type;
  std::string search_service_type;
  std::uint32_t mx = 1;
  std::uint32_t max_age = 4;
  std::string group = std::string(homep2p::net::kDefaultDiscoveryGroup);
  std::uint16_t port = homep2p::net::kDefaultDiscoveryPort;
  std::uint16_t tcp_port = 7789;
  std::vector<std::string> services;  // "id:type"
  bool verbose = false;
};

class JsonLine {
 public:
  JsonLine() : writer_(buffer_) { writer_.StartObject(); }
  JsonLine& field(const char* key, const std::string& value) {
    writer_.Key(key);
    writer_.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }
  JsonLine& field(const char* key, std::uint64_t value) {
    writer_.Key(key);
    writer_.Uint64(value);
    return *this;
  }
  JsonLine& field(const char* key, bool value) {
    writer_.Key(key);
    writer_.Bool(value);
    return *this;
  }
  void print() {
    writer_.EndObject();
    std::cout << buffer_.GetString() << std::endl;  // flushed: the test reads it live
  }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

void print_event(const DiscoveryEvent& event) {
  std::visit(
      [](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, homep2p::DeviceAppeared>) {
          JsonLine()
              .field("event", std::string("appeared"))
              .field("device_id", e.device.device_id)
              .field("name", e.device.friendly_name)
              .field("type", e.device.device_type)
              .field("source", e.source_address)
              .print();
        } else if constexpr (std::is_same_v<T, homep2p::DeviceUpdated>) {
          JsonLine()
              .field("event", std::string("updated"))
              .field("device_id", e.device.device_id)
              .field("rebooted", e.rebooted)
              .print();
        } else if constexpr (std::is_same_v<T, homep2p::DeviceLeft>) {
          JsonLine()
              .field("event", std::string("left"))
              .field("device_id", e.device.device_id)
              .field("cause", std::string(homep2p::to_string(e.cause)))
              .print();
        } else {
          JsonLine()
              .field("event", std::string("search_answer"))
              .field("device_id", e.device_id)
              .field("search_id", e.search_id)
              .print();
        }
      },
      event);
}

class Node {
 public:
  Node(asio::io_context& io, DiscoveryAgent agent)
      : io_(io), agent_(std::move(agent)), timer_(io), stop_timer_(io), signals_(io, SIGTERM, SIGINT) {}

  homep2p::Result<void> run(const Options& options) {
    homep2p::net::MulticastConfig config;
    config.interface = options.interface;
    config.group = options.group;
    config.port = options.port;
    auto channel = MulticastChannel::open(
        io_, config, [this](std::span<const std::uint8_t> bytes, const asio::ip::udp::endpoint& from) {
          handle(agent_.on_datagram(bytes, from.address().to_string(), from.port(), Clock::now()));
        });
    if (!channel) return channel.error();
    channel_ = *channel;

    const auto unicast = channel_->unicast_endpoint();
    JsonLine()
        .field("event", std::string("ready"))
        .field("device_id", agent_.own().device_id)
        .field("unicast", unicast.address().to_string() + ":" + std::to_string(unicast.port()))
        .print();

    send(agent_.start(Clock::now()));
    if (options.search) {
      homep2p::SearchConditions conditions{options.search_device_type, options.search_service_type, ""};
      send(agent_.search(conditions, options.mx, Clock::now()));
    }
    arm();
    signals_.async_wait([this](const std::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("signal {}: stopping", signal);
      shutdown();
    });
    stop_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(options.seconds * 1000)));
    stop_timer_.async_wait([this](const std::error_code& ec) {
      if (!ec) shutdown();
    });
    io_.run();
    return {};
  }

 private:
  void send(const homep2p::Datagram& datagram) {
    homep2p::Result<void> sent;
    if (!datagram.unicast_to) {
      sent = channel_->send_multicast(datagram.payload);
    } else {
      std::error_code ec;
      const auto address = asio::ip::make_address(datagram.unicast_to->address, ec);
      if (ec) {
        spdlog::warn("bad answer address {}: {}", datagram.unicast_to->address, ec.message());
        return;
      }
      sent = channel_->send_to(datagram.payload, asio::ip::udp::endpoint(address, datagram.unicast_to->port));
    }
    if (!sent) spdlog::warn("{}", sent.error().message);
  }

  void handle(const DiscoveryOutput& output) {
    if (output.ignored_reason) spdlog::debug("datagram ignored: {}", *output.ignored_reason);
    for (const auto& datagram : output.datagrams) send(datagram);
    for (const auto& event : output.events) print_event(event);
    arm();
  }

  void arm() {
    if (stopped_) return;
    const auto deadline = agent_.next_deadline();
    if (!deadline) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(*deadline);
    timer_.async_wait([this](const std::error_code& ec) {
      if (ec || stopped_) return;
      handle(agent_.on_deadline(Clock::now()));
    });
  }

  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    if (auto bye = agent_.stop()) send(*bye);
    channel_->close();
    timer_.cancel();
    stop_timer_.cancel();
    signals_.cancel();
    JsonLine().field("event", std::string("stopped")).print();
  }

  asio::io_context& io_;
  DiscoveryAgent agent_;
  std::shared_ptr<MulticastChannel> channel_;
  asio::steady_timer timer_;
  asio::steady_timer stop_timer_;
  asio::signal_set signals_;
  bool stopped_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"discovery_node: one HomeP2P device doing discovery only (integration tests)"};
  app.add_option("--id", options.device_id, "device id (UUID)")->required();
  app.add_option("--name", options.name, "friendly name")->required();
  app.add_option("--type", options.type, "device type")->required();
  app.add_option("--interface", options.interface, "interface name or IPv4 address");
  app.add_option("--seconds", options.seconds, "run time, then bye-bye");
  app.add_flag("--search", options.search, "send a DeviceSearch after the announce");
  app.add_option("--search-type", options.search_device_type, "search condition: device type");
  app.add_option("--search-service", options.search_service_type, "search condition: service type");
  app.add_option("--mx", options.mx, "search MX, seconds");
  app.add_option("--max-age", options.max_age, "max-age of our announce, seconds");
  app.add_option("--group", options.group, "multicast group");
  app.add_option("--port", options.port, "multicast port");
  app.add_option("--tcp-port", options.tcp_port, "TCP port to announce (nothing listens)");
  app.add_option("--service", options.services, "a service offered, id:type (repeatable)");
  app.add_flag("--verbose", options.verbose, "debug logs on stderr");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_st("discovery_node"));
  spdlog::set_level(options.verbose ? spdlog::level::debug : spdlog::level::info);

  auto interface = homep2p::net::resolve_interface_v4(options.interface);
  if (!interface) {
    spdlog::error("{}", interface.error().message);
    return 1;
  }

  homep2p::OsRandomSource random;
  homep2p::DeviceAnnounce own;
  own.device_id = options.device_id;
  own.device_type = options.type;
  own.friendly_name = options.name;
  own.address = interface->to_string();
  own.port = options.tcp_port;
  own.max_age = options.max_age;
  std::array<std::uint8_t, 8> boot{};
  random.fill(boot);
  std::memcpy(&own.boot_id, boot.data(), boot.size());
  for (const auto& service : options.services) {
    const auto colon = service.find(':');
    if (colon == std::string::npos) {
      spdlog::error("--service wants id:type, got {}", service);
      return 2;
    }
    own.services.push_back({service.substr(0, colon), service.substr(colon + 1)});
  }

  auto agent = DiscoveryAgent::create(own, random);
  if (!agent) {
    spdlog::error("{}", agent.error().message);
    return 1;
  }
  asio::io_context io;
  Node node(io, std::move(*agent));
  if (auto ran = node.run(options); !ran) {
    spdlog::error("{}", ran.error().message);
    return 1;
  }
  return 0;
}

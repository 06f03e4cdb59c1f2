// Soak (issue 6): simulated devices (`homepeer home`), a real bridge and broker, and many
// connect/disconnect cycles driven through the bridge's MQTT request/response API.
//   HOMEP2P_SOAK_DEVICES  (default 20)   devices
//   HOMEP2P_SOAK_CYCLES   (default 200)  connect+disconnect cycles, round robin over the devices
//   HOMEP2P_SOAK_PARALLEL (default 4)    cycles in flight at once (on different devices)
// CI runs the short form (the defaults); scripts/soak.sh runs 100 devices x 1,000 cycles.
// Checks: every request gets exactly one response, ok (nothing lost on the request/response
// API); every device's own connection count is back to 0 at the end (as the device reports it);
// the bridge's open file descriptors and resident memory after the run are within 10% of what
// they were after a warm-up round (RSS is only reported under ASan, whose quarantine grows it).
// Prints "soak: ..." lines, the figures of docs/RELIABILITY.md.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "bridge_checks.hpp"
#include "bridge_world.hpp"

namespace system_test {
namespace {

using namespace std::chrono_literals;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string home_device_id(int i) {
  char id[40];
  std::snprintf(id, sizeof id, "d0e5e000-0000-4000-8000-%012d", i);
  return id;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

TEST(Soak, ConnectDisconnectCyclesThroughMqttLoseNothingAndLeakNothing) {
  const int devices = env_int("HOMEP2P_SOAK_DEVICES", 20);
  const int cycles = env_int("HOMEP2P_SOAK_CYCLES", 200);
  const int parallel = std::max(1, std::min(env_int("HOMEP2P_SOAK_PARALLEL", 4), devices));
  BridgeWorld world;
  world.start_broker();
  auto probe = world.probe("soak-probe");
  probe->subscribe("peer2mqtt/bridge/response/#");
  probe->subscribe("peer2mqtt/bridge/info");

  ChildProcess home(world.homepeer({"home", "--devices", std::to_string(devices), "--json", "--log-level", "warn"}),
                    world.dir() + "/home.log");
  const std::string config = world.dir() + "/soak.yaml";
  std::ofstream(config) << "mqtt: {server: \"" << "mqtt://127.0.0.1:" << world.server().substr(world.server().rfind(':') + 1)
                        << "\", base_topic: peer2mqtt}\n"
                        << "homeassistant: {enabled: true}\n"
                        << "bridge: {id: 5eed0000-0000-4000-8000-00000000b71d, name: soak bridge}\n"
                        << "network: {interface: 127.0.0.1, multicast_port: " << world.discovery_port() << "}\n"
                        << "security: {max_connections: " << devices + 16 << "}\n"
                        << "credentials:\n  default: {user: admin, password: admin-password}\n"
                        << "mappings: " << HOMEP2P_SOURCE_DIR << "/mappings\n"
                        << "state_file: " << world.dir() << "/state.json\n"
                        << "log_level: info\n";
  ChildProcess bridge({PEER2MQTT_BIN, "--config", config}, world.dir() + "/peer2mqtt.log");
  // Every device known and available to the bridge.
  const auto counts_are = [&](const std::string& what, int value) {
    return [&, what, value](const std::string& p) {
      const auto doc = json_of(p);
      return doc.IsObject() && doc.HasMember("counts") && doc["counts"][what.c_str()].GetInt() == value;
    };
  };
  ASSERT_TRUE(probe->wait_for_topic("peer2mqtt/bridge/info", counts_are("available", devices), 60s))
      << "the bridge did not discover all " << devices << " devices\n" << bridge.log();

  std::mutex mutex;
  std::map<std::string, std::string> failures;  // transaction -> what went wrong
  std::atomic<int> requests{0};
  auto run_cycles = [&](int first, int last) {
    std::vector<std::thread> workers;
    for (int w = 0; w < parallel; ++w) {
      workers.emplace_back([&, w] {
        for (int c = first; c < last; ++c) {
          const int device = c % devices;
          if (device % parallel != w) continue;  // one worker per device: its cycles in order
          for (const char* step : {"connect", "disconnect"}) {
            const std::string transaction = "c" + std::to_string(c) + "-" + step;
            probe->publish("peer2mqtt/bridge/request/device/" + std::string(step),
                           R"({"device":")" + home_device_id(device) + R"(","transaction":")" + transaction + "\"}");
            ++requests;
            const auto r = probe->wait_for_topic("peer2mqtt/bridge/response/device/" + std::string(step),
                                                 [&](const std::string& p) { return field(p, "transaction") == transaction; }, 30s);
            if (!r || field(r->payload, "status") != "ok") {
              std::lock_guard lock(mutex);
              failures[transaction] = r ? r->payload : "no response";
            }
          }
        }
      });
    }
    for (auto& t : workers) t.join();
  };

  // Warm-up: one cycle per device, then the baseline.
  const int warmup = std::min(devices, cycles);
  const auto t0 = std::chrono::steady_clock::now();
  run_cycles(0, warmup);
  std::this_thread::sleep_for(2s);
  const std::size_t fds_base = open_fds(bridge.pid());
  const std::size_t rss_base = rss_kib(bridge.pid());
  std::size_t fds_max = fds_base, rss_max = rss_base;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      fds_max = std::max(fds_max, open_fds(bridge.pid()));
      rss_max = std::max(rss_max, rss_kib(bridge.pid()));
      std::this_thread::sleep_for(200ms);
    }
  });
  run_cycles(warmup, cycles);
  sampling = false;
  sampler.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(2s);
  const std::size_t fds_end = open_fds(bridge.pid());
  const std::size_t rss_end = rss_kib(bridge.pid());

  // Nothing lost: exactly one response per request, each ok.
  std::map<std::string, int> responses;
  for (const auto& r : probe->all()) {
    if (r.topic.rfind("peer2mqtt/bridge/response/", 0) == 0) ++responses[field(r.payload, "transaction")];
  }
  int duplicated = 0;
  for (const auto& [t, n] : responses) duplicated += n > 1 ? 1 : 0;
  EXPECT_TRUE(failures.empty()) << failures.size() << " requests failed, e.g. " << failures.begin()->first << ": "
                                << failures.begin()->second;
  EXPECT_EQ(static_cast<int>(responses.size()), requests.load());
  EXPECT_EQ(duplicated, 0);

  // Every device's own count back to 0, as the devices report it (homepeer home --json).
  EXPECT_TRUE(probe->wait_for_topic("peer2mqtt/bridge/info", counts_are("connected", 0), 10s));
  std::map<std::string, int> last_count;
  std::istringstream lines(home.log());
  int connected_events = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto doc = json_of(line);
    if (!doc.IsObject() || !doc.HasMember("event") || doc["event"] != "connection" || !doc.HasMember("device")) continue;
    last_count[doc["device"].GetString()] = doc["count"].GetInt();
    connected_events += doc["state"] == "connected" ? 1 : 0;
  }
  int not_zero = 0;
  for (const auto& [id, count] : last_count) not_zero += count != 0 ? 1 : 0;
  EXPECT_EQ(not_zero, 0) << "devices whose count did not return to 0";
  EXPECT_EQ(static_cast<int>(last_count.size()), std::min(devices, cycles)) << "devices that saw a connection";
  EXPECT_EQ(connected_events, cycles) << "one device-side connection per cycle";

  // Stable resources: the end within 10% of the baseline.
  EXPECT_LE(fds_end, fds_base + fds_base / 10) << "file descriptors grew";
  if (!kAsan) {
    EXPECT_LE(rss_end, rss_base + rss_base / 10) << "resident memory grew";
  }
  EXPECT_TRUE(bridge.running());
  std::printf("soak: %d devices, %d cycles (%d requests, %zu responses, %zu failed, %d duplicated) in %.1f s, %d in flight\n",
              devices, cycles, requests.load(), responses.size(), failures.size(), duplicated, seconds, parallel);
  std::printf("soak: bridge fds %zu -> %zu (max %zu), RSS %zu -> %zu KiB (max %zu)%s; devices back to 0: %zu of %zu\n",
              fds_base, fds_end, fds_max, rss_base, rss_end, rss_max, kAsan ? " [ASan: RSS not checked]" : "",
              last_count.size() - static_cast<std::size_t>(not_zero), last_count.size());
}

}  // namespace
}  // namespace system_test

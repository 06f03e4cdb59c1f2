// The runtime (Node) on real sockets and real multicast, in-process: run inside a network
// namespace of its own by in_netns.sh (ctest does this), never on the host's interfaces.
#include "homep2p/net/node.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace homep2p::net {
namespace {

using namespace std::chrono_literals;

// Collects a node's events (they arrive on the node's thread) and lets the test wait for one.
class EventLog {
 public:
  void attach(Node& node) {
    node.on_event([this](const NodeEvent& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
      changed_.notify_all();
    });
  }
  template <class Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_) {
        if (pred(e)) return true;
      }
      return false;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<NodeEvent> events_;
};

DeviceConfig device(const std::string& id, const std::string& name, std::vector<ServiceConfig> services,
                    std::uint32_t max_connections = 4, bool auth = true) {
  DeviceConfig c;
  c.device_id = id;
  c.device_type = "Test";
  c.friendly_name = name;
  c.interface = "127.0.0.1";
  c.max_age = 5;
  c.keepalive_interval = 1;
  c.auth_required = auth;
  c.max_connections = max_connections;
  c.accounts.push_back(Account{"admin", derive_share_key("admin-password", "admin"), AccountRole::Admin});
  c.accounts.push_back(Account{"user", derive_share_key("user-password", "user"), AccountRole::User});
  c.default_credential = Credential{"admin", derive_share_key("admin-password", "admin")};
  c.services = std::move(services);
  return c;
}

NodeOptions options(DeviceConfig config) {
  NodeOptions o;
  o.config = std::move(config);
  return o;
}

const std::string kA = "aaaaaaaa-0000-4000-8000-00000000000a";
const std::string kB = "bbbbbbbb-0000-4000-8000-00000000000b";
const std::string kC = "cccccccc-0000-4000-8000-00000000000c";

bool seen(const NodeEvent& e, const std::string& id) {
  const auto* s = std::get_if<DeviceSeen>(&e);
  return s && s->device.device_id == id;
}

bool connected_to(const NodeEvent& e, const std::string& id) {
  const auto* c = std::get_if<ConnectionChanged>(&e);
  return c && c->peer_id == id && c->state == LinkState::Connected;
}

bool disconnected_from(const NodeEvent& e, const std::string& id) {
  const auto* c = std::get_if<ConnectionChanged>(&e);
  return c && c->peer_id == id && c->state == LinkState::Disconnected;
}

TEST(Node, DiscoversConnectsUsesServicesAndDisconnectsOverRealSockets) {
  // Declared before the nodes: a node's stop() emits events, so handlers must outlive it.
  EventLog a_log, b_log;
  Node a(options(device(kA, "controller", {})));
  Node b(options(device(kB, "lamp", {{"lamp", "SwitchPower"}})));
  a_log.attach(a);
  b_log.attach(b);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(a_log.wait_for([](const NodeEvent& e) { return seen(e, kB); })) << "A never saw B's announce";

  const ConnectOutcome outcome = a.connect(kB, Credential{"user", derive_share_key("user-password", "user")}).get();
  ASSERT_TRUE(outcome.connected) << outcome.summary() << " " << outcome.detail;
  ASSERT_TRUE(b_log.wait_for([](const NodeEvent& e) { return connected_to(e, kA); }));
  EXPECT_EQ(a.connections().size(), 1U);
  EXPECT_EQ(b.connections().size(), 1U);

  const auto services = a.search_services(kB).get();
  ASSERT_TRUE(services.ok()) << services.error().message;
  ASSERT_EQ(services->size(), 2U);  // the lamp and the ConnectionManager

  const auto lease = a.rent(kB, "lamp", 60).get();
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->result, ServiceResult::Ok) << lease->error;
  const auto invoked = a.invoke(kB, lease->lease_id, "SetPower", {{"on", true}}).get();
  ASSERT_TRUE(invoked.ok());
  EXPECT_EQ(invoked->result, ServiceResult::Ok) << invoked->error;
  EXPECT_TRUE(a_log.wait_for([](const NodeEvent& e) {
    const auto* ev = std::get_if<ServiceEventReceived>(&e);
    return ev && ev->event.service_id == "lamp" && ev->event.variables.count("on");
  })) << "the lease holder got no ServiceEvent";

  const auto no_lease = a.invoke(kB, "not-a-lease", "Toggle", {}).get();
  ASSERT_TRUE(no_lease.ok());
  EXPECT_EQ(no_lease->result, ServiceResult::NoLease);
  EXPECT_FALSE(no_lease->error.empty());

  ASSERT_TRUE(a.disconnect(kB).get().ok());
  ASSERT_TRUE(b_log.wait_for([](const NodeEvent& e) { return disconnected_from(e, kA); }));
  EXPECT_EQ(a.connections().size(), 0U);
  EXPECT_EQ(b.connections().size(), 0U);
}

TEST(Node, WrongPasswordIsAccessDeniedAndOverloadAtTheMax) {
  // Declared before the nodes: a node's stop() emits events, so handlers must outlive it.
  EventLog a_log, c_log;
  Node a(options(device(kA, "a", {})));
  Node b(options(device(kB, "b", {}, /*max_connections=*/1)));
  Node c(options(device(kC, "c", {})));
  a_log.attach(a);
  c_log.attach(c);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(c.start().ok());
  ASSERT_TRUE(a_log.wait_for([](const NodeEvent& e) { return seen(e, kB); }));
  ASSERT_TRUE(c_log.wait_for([](const NodeEvent& e) { return seen(e, kB); }));

  const auto denied = a.connect(kB, Credential{"user", derive_share_key("wrong", "user")}).get();
  EXPECT_FALSE(denied.connected);
  EXPECT_EQ(denied.summary(), "ACCESSDENIED");

  ASSERT_TRUE(a.connect(kB).get().connected);
  const auto overload = c.connect(kB).get();
  EXPECT_FALSE(overload.connected);
  EXPECT_EQ(overload.summary(), "OVERLOAD");
  EXPECT_EQ(b.connections().size(), 1U);
}

TEST(Node, ConnectionManagerLetsAnAdminConnectTwoOtherDevices) {
  // Declared before the nodes: a node's stop() emits events, so handlers must outlive it.
  EventLog admin_log, c_log;
  Node admin(options(device(kA, "admin", {})));
  Node b(options(device(kB, "b", {})));
  Node c(options(device(kC, "c", {})));
  admin_log.attach(admin);
  c_log.attach(c);
  ASSERT_TRUE(admin.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(c.start().ok());
  ASSERT_TRUE(admin_log.wait_for([](const NodeEvent& e) { return seen(e, kC); }));
  ASSERT_TRUE(c_log.wait_for([](const NodeEvent& e) { return seen(e, kB); }));

  ASSERT_TRUE(admin.connect(kC).get().connected);
  const auto lease = admin.rent(kC, "connection-manager", 60).get();
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->result, ServiceResult::Ok);
  const auto started = admin.invoke(kC, lease->lease_id, "Connect", {{"target", kB}}).get();
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->result, ServiceResult::Ok) << started->error;
  ASSERT_TRUE(c_log.wait_for([](const NodeEvent& e) { return connected_to(e, kB); }));
  // The admin sees it as a ConnectionManager event: C now has 2 connections (admin and B).
  EXPECT_TRUE(admin_log.wait_for([](const NodeEvent& e) {
    const auto* ev = std::get_if<ServiceEventReceived>(&e);
    if (!ev || ev->event.service_id != "connection-manager") return false;
    const auto it = ev->event.variables.find("count");
    return it != ev->event.variables.end() && std::get<std::int64_t>(it->second) == 2;
  }));
}

TEST(Node, ANonAdminCannotDriveTheConnectionManager) {
  // Declared before the nodes: a node's stop() emits events, so handlers must outlive it.
  EventLog a_log;
  Node a(options(device(kA, "a", {})));
  Node b(options(device(kB, "b", {})));
  a_log.attach(a);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(a_log.wait_for([](const NodeEvent& e) { return seen(e, kB); }));
  ASSERT_TRUE(a.connect(kB, Credential{"user", derive_share_key("user-password", "user")}).get().connected);
  const auto lease = a.rent(kB, "connection-manager", 60).get();
  ASSERT_TRUE(lease.ok());
  const auto refused = a.invoke(kB, lease->lease_id, "Connect", {{"target", kA}}).get();
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->result, ServiceResult::Denied);
}

TEST(Node, StopSendsDisconnectAndByeByeSoThePeerFixesItsCountAtOnce) {
  // Declared before the nodes: a node's stop() emits events, so handlers must outlive it.
  EventLog a_log;
  Node a(options(device(kA, "a", {})));
  auto b = std::make_unique<Node>(options(device(kB, "b", {})));
  a_log.attach(a);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(a_log.wait_for([](const NodeEvent& e) { return seen(e, kB); }));
  ASSERT_TRUE(a.connect(kB).get().connected);
  b->stop();
  EXPECT_TRUE(a_log.wait_for([](const NodeEvent& e) {
    const auto* c = std::get_if<ConnectionChanged>(&e);
    return c && c->state == LinkState::Disconnected && c->cause == DisconnectCause::PeerRequested;
  }, 2000ms));
  EXPECT_TRUE(a_log.wait_for([](const NodeEvent& e) {
    const auto* g = std::get_if<DeviceGone>(&e);
    return g && g->device_id == kB && g->cause == LeaveCause::ByeBye;
  }, 2000ms));
  EXPECT_EQ(a.connections().size(), 0U);
}

TEST(Node, ASpoofedAnnounceCannotDowngradeAConnectionToADeviceThatRequiredAuthentication) {
  EventLog a_log;
  Node a(options(device(kA, "a", {})));
  Node b(options(device(kB, "b", {})));  // the real B: requires authentication
  a_log.attach(a);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(a_log.wait_for([](const NodeEvent& e) { return seen(e, kB); }));
  std::this_thread::sleep_for(1s);  // past B's start-up repeat announce

  // An impostor claims B's id, announces "no authentication" and answers SUCCESS at once.
  Node impostor(options(device(kB, "b", {}, 4, /*auth=*/false)));
  ASSERT_TRUE(impostor.start().ok());
  ASSERT_TRUE(a_log.wait_for([&](const NodeEvent& e) {
    const auto* s = std::get_if<DeviceSeen>(&e);
    return s && s->device.device_id == kB && s->device.port == impostor.tcp_port();
  })) << "A never took the impostor's announce";

  const ConnectOutcome outcome = a.connect(kB).get();
  EXPECT_FALSE(outcome.connected) << "downgraded to an unauthenticated connection";
  EXPECT_EQ(outcome.local, LocalFailure::ProtocolError) << outcome.detail;
  EXPECT_NE(outcome.detail.find("without a challenge"), std::string::npos) << outcome.detail;
  EXPECT_EQ(a.connections().size(), 0U);
}

TEST(Node, CallsAfterStopAnswerWithAnErrorInsteadOfHanging) {
  Node a(options(device(kA, "a", {})));
  ASSERT_TRUE(a.start().ok());
  a.stop();
  EXPECT_FALSE(a.connect(kB).get().connected);
  EXPECT_FALSE(a.search_services(kB).get().ok());
}

}  // namespace
}  // namespace homep2p::net

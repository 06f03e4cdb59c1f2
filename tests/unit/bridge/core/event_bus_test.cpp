#include "core/event_bus.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace peer2mqtt {
namespace {

// "<name>:<device id>" for device events, the event name otherwise.
std::string describe(const BridgeEvent& e) {
  if (const auto* s = std::get_if<DeviceStateChanged>(&e)) return std::string(event_name(e)) + ":" + s->device_id;
  return event_name(e);
}

struct ErrorLog {
  std::vector<std::pair<std::string, std::string>> entries;
  EventBus::ErrorSink sink() {
    return [this](const std::string& where, const std::string& what) { entries.emplace_back(where, what); };
  }
};

TEST(EventBus, DeliversToEveryListenerInSubscriptionOrder) {
  EventBus bus;
  std::vector<std::string> seen;
  bus.subscribe("a", [&](const BridgeEvent& e) { seen.push_back("a " + describe(e)); });
  bus.subscribe("b", [&](const BridgeEvent& e) { seen.push_back("b " + describe(e)); });
  bus.publish(BridgeStarted{});
  bus.publish(DeviceStateChanged{"d1"});
  EXPECT_EQ(seen, (std::vector<std::string>{"a bridge_started", "b bridge_started", "a device_state_changed:d1",
                                            "b device_state_changed:d1"}));
  EXPECT_EQ(bus.listener_count(), 2U);
}

TEST(EventBus, ThrowingListenerIsReportedAsOwnerSlashEventAndOthersStillRun) {
  ErrorLog log;
  EventBus bus(log.sink());
  std::vector<std::string> seen;
  bus.subscribe("before", [&](const BridgeEvent&) { seen.push_back("before"); });
  bus.subscribe("faulty", [](const BridgeEvent&) { throw std::runtime_error("boom"); });
  bus.subscribe("after", [&](const BridgeEvent&) { seen.push_back("after"); });
  bus.publish(DeviceStateChanged{"d1"});
  EXPECT_EQ(seen, (std::vector<std::string>{"before", "after"}));
  ASSERT_EQ(log.entries.size(), 1U);
  EXPECT_EQ(log.entries[0].first, "faulty/device_state_changed");
  EXPECT_EQ(log.entries[0].second, "boom");

  // The bus keeps working after the failure.
  bus.publish(MqttConnected{});
  EXPECT_EQ(seen.size(), 4U);
  ASSERT_EQ(log.entries.size(), 2U);
  EXPECT_EQ(log.entries[1].first, "faulty/mqtt_connected");
}

TEST(EventBus, NonStandardExceptionIsReportedToo) {
  ErrorLog log;
  EventBus bus(log.sink());
  bus.subscribe("odd", [](const BridgeEvent&) { throw 42; });
  bus.publish(DevicesChanged{});
  ASSERT_EQ(log.entries.size(), 1U);
  EXPECT_EQ(log.entries[0].first, "odd/devices_changed");
  EXPECT_FALSE(log.entries[0].second.empty());
}

TEST(EventBus, ThrowingListenerWithoutErrorSinkDoesNotEscape) {
  EventBus bus;
  int after = 0;
  bus.subscribe("faulty", [](const BridgeEvent&) { throw std::runtime_error("boom"); });
  bus.subscribe("after", [&](const BridgeEvent&) { ++after; });
  EXPECT_NO_THROW(bus.publish(BridgeStarted{}));
  EXPECT_EQ(after, 1);
}

TEST(EventBus, ThrowingErrorSinkDoesNotStopDelivery) {
  EventBus bus([](const std::string&, const std::string&) { throw std::runtime_error("sink broken"); });
  int after = 0;
  bus.subscribe("faulty", [](const BridgeEvent&) { throw std::runtime_error("boom"); });
  bus.subscribe("after", [&](const BridgeEvent&) { ++after; });
  EXPECT_NO_THROW(bus.publish(BridgeStarted{}));
  EXPECT_EQ(after, 1);
}

TEST(EventBus, EventsPublishedDuringDeliveryAreQueuedAndDeliveredAfterInOrder) {
  EventBus bus;
  std::vector<std::string> seen;
  bus.subscribe("producer", [&](const BridgeEvent& e) {
    seen.push_back("producer " + describe(e));
    if (std::holds_alternative<BridgeStarted>(e)) {
      bus.publish(DeviceStateChanged{"d1"});
      bus.publish(DeviceStateChanged{"d2"});
      // Nothing was delivered re-entrantly: the consumer has not even seen bridge_started yet.
      seen.push_back("producer returns");
    }
  });
  bus.subscribe("consumer", [&](const BridgeEvent& e) { seen.push_back("consumer " + describe(e)); });
  bus.publish(BridgeStarted{});
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "producer bridge_started", "producer returns", "consumer bridge_started",
                      "producer device_state_changed:d1", "consumer device_state_changed:d1",
                      "producer device_state_changed:d2", "consumer device_state_changed:d2"}));
}

TEST(EventBus, EventQueuedByAThrowingListenerIsStillDelivered) {
  ErrorLog log;
  EventBus bus(log.sink());
  std::vector<std::string> seen;
  bus.subscribe("faulty", [&](const BridgeEvent& e) {
    if (std::holds_alternative<BridgeStarted>(e)) {
      bus.publish(DevicesChanged{});
      throw std::runtime_error("after publishing");
    }
  });
  bus.subscribe("consumer", [&](const BridgeEvent& e) { seen.push_back(describe(e)); });
  bus.publish(BridgeStarted{});
  EXPECT_EQ(seen, (std::vector<std::string>{"bridge_started", "devices_changed"}));
  EXPECT_EQ(log.entries.size(), 1U);
}

TEST(EventBus, UnsubscribeRemovesEveryListenerOfThatOwnerOnly) {
  EventBus bus;
  int a = 0;
  int b = 0;
  bus.subscribe("a", [&](const BridgeEvent&) { ++a; });
  bus.subscribe("a", [&](const BridgeEvent&) { ++a; });
  bus.subscribe("b", [&](const BridgeEvent&) { ++b; });
  bus.unsubscribe("a");
  EXPECT_EQ(bus.listener_count(), 1U);
  bus.publish(BridgeStarted{});
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  bus.unsubscribe("nobody");
  EXPECT_EQ(bus.listener_count(), 1U);
}

TEST(EventBus, ListenerMayUnsubscribeItselfDuringDelivery) {
  EventBus bus;
  int once = 0;
  int other = 0;
  bus.subscribe("once", [&](const BridgeEvent&) {
    ++once;
    bus.unsubscribe("once");
  });
  bus.subscribe("other", [&](const BridgeEvent&) { ++other; });
  bus.publish(BridgeStarted{});
  bus.publish(BridgeStarted{});
  EXPECT_EQ(once, 1);
  EXPECT_EQ(other, 2);
  EXPECT_EQ(bus.listener_count(), 1U);
}

TEST(EventBus, ListenerUnsubscribedDuringDeliveryGetsNoFurtherEventsIncludingTheCurrentOne) {
  EventBus bus;
  int victim = 0;
  bus.subscribe("killer", [&](const BridgeEvent& e) {
    if (std::holds_alternative<BridgeStarted>(e)) {
      bus.publish(DevicesChanged{});  // queued: must not reach the victim either
      bus.unsubscribe("victim");
    }
  });
  bus.subscribe("victim", [&](const BridgeEvent&) { ++victim; });
  bus.publish(BridgeStarted{});
  EXPECT_EQ(victim, 0);
  EXPECT_EQ(bus.listener_count(), 1U);
}

TEST(EventBus, ListenerSubscribedDuringDeliveryGetsOnlyLaterEvents) {
  EventBus bus;
  std::vector<std::string> late;
  bool added = false;
  bus.subscribe("adder", [&](const BridgeEvent& e) {
    if (!added) {
      added = true;
      // Many subscriptions: the listener vector reallocates while "adder" runs.
      for (int i = 0; i < 50; ++i) bus.subscribe("filler", [](const BridgeEvent&) {});
      bus.subscribe("late", [&](const BridgeEvent& ev) { late.push_back(describe(ev)); });
      bus.publish(DevicesChanged{});
    }
    (void)e;
  });
  bus.publish(BridgeStarted{});
  EXPECT_EQ(late, (std::vector<std::string>{"devices_changed"}));
  EXPECT_EQ(bus.listener_count(), 52U);
}

TEST(EventBus, EmptyListenerIsIgnored) {
  EventBus bus;
  bus.subscribe("nothing", EventBus::Listener{});
  EXPECT_EQ(bus.listener_count(), 0U);
  EXPECT_NO_THROW(bus.publish(BridgeStarted{}));
}

TEST(EventBus, EveryEventHasItsSnakeCaseName) {
  EXPECT_STREQ(event_name(BridgeStarted{}), "bridge_started");
  EXPECT_STREQ(event_name(MqttConnected{}), "mqtt_connected");
  EXPECT_STREQ(event_name(MqttReceived{}), "mqtt_received");
  EXPECT_STREQ(event_name(HomeAssistantOnline{}), "home_assistant_online");
  EXPECT_STREQ(event_name(DeviceAnnounced{}), "device_announced");
  EXPECT_STREQ(event_name(DeviceAvailabilityChanged{}), "device_availability_changed");
  EXPECT_STREQ(event_name(DeviceStateChanged{}), "device_state_changed");
  EXPECT_STREQ(event_name(ConnectionAttempted{}), "connection_attempted");
  EXPECT_STREQ(event_name(DeviceRenamed{}), "device_renamed");
  EXPECT_STREQ(event_name(DeviceRemoved{}), "device_removed");
  EXPECT_STREQ(event_name(DevicesChanged{}), "devices_changed");
}

}  // namespace
}  // namespace peer2mqtt

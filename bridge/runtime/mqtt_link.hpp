// The MQTT client (Eclipse Paho MQTT C++ async client), behind MqttPort. Lessons from Zigbee2MQTT
// and Paho 1.2.0 (DESIGN §3): the will is bridge/state {"state":"offline"} (built from a
// std::string payload); every retained message published is cached and republished after every
// (re)connect; subscriptions are renewed in the connected handler every time; nothing blocks in a
// Paho callback (they run on Paho's single thread: received messages and connection changes are
// handed to `post`, which runs them on the bridge's thread); a first connect that fails is
// retried with back-off while the bridge keeps running. Client ids are unique per instance.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "core/event_bus.hpp"
#include "core/mqtt_port.hpp"
#include "bridge_config.hpp"

namespace peer2mqtt {

class MqttLink final : public MqttPort {
 public:
  // `post` runs a function on the bridge's thread. `bus` gets MqttConnected and MqttReceived
  // (published from the bridge's thread).
  MqttLink(MqttConfig config, std::function<void(std::function<void()>)> post, EventBus& bus);
  ~MqttLink() override;

  // Starts connecting (returns at once; retries until stop()).
  void start();
  // Publishes bridge/state offline (retained), disconnects cleanly.
  void stop();

  void publish(MqttMessage message) override;
  void subscribe(const std::string& topic_filter) override;
  bool connected() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace peer2mqtt

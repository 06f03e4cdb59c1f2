// What the bridge's logic needs of MQTT, as an interface: the extensions publish and subscribe
// through it and never see Paho. The runtime's MqttLink implements it; unit tests record.
#pragma once

#include <string>

namespace peer2mqtt {

struct MqttMessage {
  std::string topic;
  std::string payload;
  bool retain = false;
  int qos = 1;
};

class MqttPort {
 public:
  virtual ~MqttPort() = default;
  // Non-blocking. Retained messages are remembered and republished after every reconnect (a
  // broker restarted without persistence forgets them); an empty retained payload deletes.
  virtual void publish(MqttMessage message) = 0;
  // Subscribes now and again after every reconnect. Messages arrive as MqttReceived on the bus.
  virtual void subscribe(const std::string& topic_filter) = 0;
};

}  // namespace peer2mqtt

// A Home-Assistant-like MQTT client for system tests (Paho C++): subscribes, records every
// message it receives (with the retained flag), waits for one that matches, publishes.
#pragma once

#include <mqtt/async_client.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace system_test {

struct Received {
  std::string topic;
  std::string payload;
  bool retained = false;
};

class MqttProbe {
 public:
  MqttProbe(const std::string& server, const std::string& client_id) : client_(server, client_id) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      std::lock_guard lock(mutex_);
      received_.push_back(Received{m->get_topic(), m->to_string(), m->is_retained()});
      changed_.notify_all();
    });
    client_.set_connected_handler([this](const std::string&) {
      std::lock_guard lock(mutex_);
      for (const auto& f : filters_) client_.subscribe(f, 1);
    });
    auto options = mqtt::connect_options_builder().clean_session(true).automatic_reconnect(
                                                      std::chrono::milliseconds(200), std::chrono::seconds(2))
                       .finalize();
    // The broker may still be starting: retry for a while.
    for (int i = 0; i < 100; ++i) {
      try {
        client_.connect(options)->wait();
        return;
      } catch (const mqtt::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    throw std::runtime_error("MqttProbe: cannot connect to " + server);
  }
  ~MqttProbe() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (...) {
    }
  }

  void subscribe(const std::string& filter) {
    {
      std::lock_guard lock(mutex_);
      filters_.push_back(filter);
    }
    client_.subscribe(filter, 1)->wait_for(std::chrono::seconds(5));
  }
  void publish(const std::string& topic, const std::string& payload, bool retain = false) {
    client_.publish(topic, payload.data(), payload.size(), 1, retain)->wait_for(std::chrono::seconds(5));
  }

  using Match = std::function<bool(const Received&)>;
  // The first message (already received or arriving within `timeout`) that matches.
  std::optional<Received> wait_for(const Match& match, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<Received> found;
    changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = seen_from_; i < received_.size(); ++i) {
        if (match(received_[i])) {
          found = received_[i];
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::optional<Received> wait_for_topic(const std::string& topic, const std::function<bool(const std::string&)>& pred,
                                         std::chrono::milliseconds timeout) {
    return wait_for([&](const Received& r) { return r.topic == topic && pred(r.payload); }, timeout);
  }
  // Later waits only look at messages received from now on.
  void forget() {
    std::lock_guard lock(mutex_);
    seen_from_ = received_.size();
  }
  std::vector<Received> all() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::optional<std::string> latest(const std::string& topic) {
    std::lock_guard lock(mutex_);
    for (auto it = received_.rbegin(); it != received_.rend(); ++it) {
      if (it->topic == topic) return it->payload;
    }
    return std::nullopt;
  }

 private:
  mqtt::async_client client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Received> received_;
  std::vector<std::string> filters_;
  std::size_t seen_from_ = 0;
};

}  // namespace system_test

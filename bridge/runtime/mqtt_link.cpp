// MqttLink on Paho's async_client.
//
// Threads: publish()/subscribe() run on the bridge's thread; Paho's callbacks (connected,
// connection lost, message arrived) run on Paho's own thread; a small connector thread makes
// connection attempts and waits for their outcome (waiting is never done in a Paho callback:
// paho.mqtt.cpp #389, #356).
//
// Locking: `mutex_` guards the retained cache, the subscription set and the connection flags.
// It is never held while calling into Paho. Paho takes its own locks inside publish/subscribe
// and calls our callbacks from its thread; holding our mutex around a Paho call would make a
// lock-order cycle with any callback that takes our mutex. So every function copies what it
// needs under the lock, releases it, then calls Paho.
//
// Ordering: retained messages are republished after a (re)connect on the bridge's thread (posted
// from the connected handler), the thread every other publish comes from. A republish and a
// fresh publish of one topic therefore never overtake each other: the broker always ends with
// the newest value.
//
// Reconnecting: the link owns its retry loop (at once, then 1 s doubling to 30 s) for the first
// connect and for every connection lost, instead of Paho's automatic reconnect: whether Paho
// retries a first connect that failed depends on the Paho C version (paho.mqtt.c #1288), and
// Paho's own retries are silent; ours log each failed attempt once.
#include "mqtt_link.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <utility>
#include <vector>

#include "core/payloads.hpp"
#include "core/topics.hpp"

namespace peer2mqtt {

namespace {

using namespace std::chrono_literals;

constexpr auto kMinRetry = 1s;
constexpr auto kMaxRetry = 30s;
constexpr auto kConnectTimeout = 10s;
// A connect token that has not completed by then is given up (and retried).
constexpr auto kConnectWaitLimit = kConnectTimeout + 20s;
constexpr auto kWaitSlice = 100ms;
constexpr auto kStopPublishWait = 2s;
constexpr auto kStopDisconnectWait = 2s;
constexpr int kSubscribeQos = 1;
// Paho counts queued commands against this even while connected: its default of 100 makes a
// burst (republishing discovery for a whole home) fail with "No more messages can be buffered".
constexpr int kMaxBufferedMessages = 100000;

// mqtt://host:port -> tcp://host:port, mqtts:// -> ssl:// (the schemes every Paho C 1.3 knows).
std::string paho_uri(const std::string& server) {
  if (server.starts_with("mqtts://")) return "ssl://" + server.substr(8);
  if (server.starts_with("mqtt://")) return "tcp://" + server.substr(7);
  return server;
}

// Paho reports a refused connection with the broker's CONNACK code (MQTT 3.1.1, 3.2.2.3).
std::string connack_hint(int code) {
  switch (code) {
    case 1:
      return " (the broker refused MQTT 3.1.1)";
    case 2:
      return " (the broker rejected the client id: check mqtt.client_id)";
    case 3:
      return " (the broker is unavailable)";
    case 4:
      return " (bad user name or password: check mqtt.user and mqtt.password)";
    case 5:
      return " (not authorized: check mqtt.user and mqtt.password)";
    default:
      return "";
  }
}

}  // namespace

class MqttLink::Impl : public std::enable_shared_from_this<MqttLink::Impl> {
 public:
  Impl(MqttConfig config, std::function<void(std::function<void()>)> post, EventBus& bus)
      : config_(std::move(config)),
        post_(std::move(post)),
        bus_(bus),
        state_topic_(Topics(config_.base_topic, "").bridge_state()) {
    // Here rather than in start(): client_ then never changes while other threads read it.
    create_client();
  }

  ~Impl() { stop(); }

  void start();
  void stop();
  void publish(MqttMessage message);
  void subscribe(const std::string& topic_filter);
  bool connected() const {
    std::lock_guard lock(mutex_);
    return connected_;
  }

 private:
  struct Cached {
    std::string payload;
    int qos = 1;
    std::uint64_t order = 0;  // republished in the order of their latest publish
  };

  class SubscribeListener final : public mqtt::iaction_listener {
   public:
    void on_failure(const mqtt::token& token) override {
      spdlog::warn("MQTT: subscribe failed (code {})", token.get_return_code());
    }
    void on_success(const mqtt::token&) override {}
  };

  void create_client();
  mqtt::connect_options connect_options() const;
  void connector_loop();
  bool attempt_connect();
  void on_connected(const std::string& cause);
  void on_connection_lost(const std::string& cause);
  void on_message(const mqtt::const_message_ptr& message);
  void republish();
  void send(const std::string& topic, const std::string& payload, int qos, bool retain);
  // Runs `fn` on the bridge's thread while this link still exists.
  void post(std::function<void(Impl&)> fn);

  const MqttConfig config_;
  const std::function<void(std::function<void()>)> post_;
  EventBus& bus_;
  const std::string state_topic_;
  SubscribeListener subscribe_listener_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the connector: connect now, or stop
  bool started_ = false;
  bool stopping_ = false;
  bool connected_ = false;
  bool need_connect_ = false;               // set when the connection was lost
  std::uint64_t losses_ = 0;                // connections lost so far
  std::map<std::string, Cached> retained_;  // topic -> last retained payload
  std::uint64_t next_order_ = 0;
  std::set<std::string> subscriptions_;

  std::thread connector_;
  // Last: destroyed first, so that no Paho callback runs once the members above are gone.
  std::unique_ptr<mqtt::async_client> client_;
};

void MqttLink::Impl::create_client() {
  try {
    mqtt::create_options options;
    options.set_max_buffered_messages(kMaxBufferedMessages);
    client_ =
        std::make_unique<mqtt::async_client>(paho_uri(config_.server), config_.client_id, options,
                                             nullptr /* no persistence: the cache is ours */);
    client_->set_connected_handler([this](const std::string& cause) { on_connected(cause); });
    client_->set_connection_lost_handler(
        [this](const std::string& cause) { on_connection_lost(cause); });
    client_->set_message_callback([this](const mqtt::const_message_ptr& message) { on_message(message); });
  } catch (const std::exception& e) {
    client_.reset();
    spdlog::error("MQTT: cannot create the client for {}: {}", config_.server, e.what());
  }
}

mqtt::connect_options MqttLink::Impl::connect_options() const {
  // From a std::string: the (const char*) overload sends a one-byte will (paho.mqtt.cpp #378).
  const std::string offline = availability_json(false);
  auto builder = mqtt::connect_options_builder()
                     .clean_session(true)
                     .keep_alive_interval(std::chrono::seconds(config_.keepalive))
                     .connect_timeout(kConnectTimeout)
                     .automatic_reconnect(false)  // see the top of this file
                     // 3.1.1 only: Paho's default also retries every refused connect as 3.1.
                     .mqtt_version(MQTTVERSION_3_1_1)
                     .will(mqtt::will_options(state_topic_, offline, 1, true));
  if (!config_.user.empty()) builder.user_name(config_.user);
  if (!config_.password.empty()) builder.password(config_.password);
  if (config_.server.starts_with("mqtts://")) {
    mqtt::ssl_options ssl;
    if (!config_.ca_file.empty()) ssl.set_trust_store(config_.ca_file);
    if (!config_.cert_file.empty()) ssl.set_key_store(config_.cert_file);
    if (!config_.key_file.empty()) ssl.set_private_key(config_.key_file);
    ssl.set_enable_server_cert_auth(config_.reject_unauthorized);
    ssl.set_verify(config_.reject_unauthorized);  // the certificate must name the host
    ssl.set_error_handler([](const std::string& what) { spdlog::warn("MQTT TLS: {}", what); });
    builder.ssl(std::move(ssl));
  }
  return builder.finalize();
}

void MqttLink::Impl::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_ || stopping_) return;
    started_ = true;
    need_connect_ = true;
  }
  if (!client_) return;  // create_client() logged why
  spdlog::info("MQTT: connecting to {} as {}", config_.server, config_.client_id);
  connector_ = std::thread([this] { connector_loop(); });
}

void MqttLink::Impl::connector_loop() {
  auto delay = std::chrono::duration_cast<std::chrono::seconds>(kMinRetry);
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || need_connect_; });
      if (stopping_) return;
    }
    if (attempt_connect()) {
      delay = std::chrono::duration_cast<std::chrono::seconds>(kMinRetry);
      continue;
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    spdlog::warn("MQTT: next connection attempt in {} s", delay.count());
    wake_.wait_for(lock, delay, [this] { return stopping_; });
    delay = std::min(delay * 2, std::chrono::duration_cast<std::chrono::seconds>(kMaxRetry));
  }
}

// One attempt, waited for on the connector thread. True when connected (or stopping).
bool MqttLink::Impl::attempt_connect() {
  std::uint64_t losses = 0;
  {
    std::lock_guard lock(mutex_);
    losses = losses_;
  }
  try {
    mqtt::token_ptr token = client_->connect(connect_options());
    const auto deadline = std::chrono::steady_clock::now() + kConnectWaitLimit;
    while (!token->wait_for(kWaitSlice)) {  // throws when the attempt failed
      std::lock_guard lock(mutex_);
      if (stopping_) return true;
      if (std::chrono::steady_clock::now() > deadline) {
        spdlog::warn("MQTT: connecting to {} did not complete in time", config_.server);
        return false;
      }
    }
    std::lock_guard lock(mutex_);
    // Paho completes the token before it calls the connected handler; a connection lost in
    // between must still be retried.
    if (losses_ == losses) need_connect_ = false;
    return true;
  } catch (const mqtt::exception& e) {
    spdlog::warn("MQTT: cannot connect to {}: {}{}", config_.server, e.what(),
                 connack_hint(e.get_return_code()));
  } catch (const std::exception& e) {
    spdlog::warn("MQTT: cannot connect to {}: {}", config_.server, e.what());
  }
  return false;
}

// Paho's thread: no waiting here.
void MqttLink::Impl::on_connected(const std::string&) {
  std::vector<std::string> filters;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    connected_ = true;
    need_connect_ = false;
    // Taken together with connected_: a subscribe() racing with this handler either sees
    // connected_ (and subscribes itself) or is in this copy.
    filters.assign(subscriptions_.begin(), subscriptions_.end());
  }
  spdlog::info("MQTT: connected to {} as {}", config_.server, config_.client_id);
  for (const auto& filter : filters) {
    try {
      client_->subscribe(filter, kSubscribeQos, nullptr, subscribe_listener_);
    } catch (const mqtt::exception& e) {
      spdlog::warn("MQTT: cannot subscribe to {}: {}", filter, e.what());
    }
  }
  post([](Impl& self) {
    self.republish();
    self.bus_.publish(MqttConnected{});
  });
}

void MqttLink::Impl::on_connection_lost(const std::string& cause) {
  {
    std::lock_guard lock(mutex_);
    connected_ = false;
    if (stopping_) return;
    need_connect_ = true;
    ++losses_;
  }
  spdlog::warn("MQTT: connection to {} lost{}{}; reconnecting", config_.server,
               cause.empty() ? "" : ": ", cause);
  wake_.notify_all();
}

void MqttLink::Impl::on_message(const mqtt::const_message_ptr& message) {
  if (!message) return;
  post([topic = message->get_topic(), payload = message->to_string()](Impl& self) {
    self.bus_.publish(MqttReceived{topic, payload});
  });
}

void MqttLink::Impl::post(std::function<void(Impl&)> fn) {
  post_([weak = weak_from_this(), fn = std::move(fn)] {
    if (auto self = weak.lock()) fn(*self);
  });
}

// The bridge's thread.
void MqttLink::Impl::republish() {
  std::vector<std::pair<std::string, Cached>> messages;
  {
    std::lock_guard lock(mutex_);
    if (!connected_ || stopping_) return;  // the next connect republishes
    messages.assign(retained_.begin(), retained_.end());
  }
  std::sort(messages.begin(), messages.end(),
            [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
  spdlog::debug("MQTT: republishing {} retained message(s)", messages.size());
  for (const auto& [topic, cached] : messages) send(topic, cached.payload, cached.qos, true);
}

void MqttLink::Impl::send(const std::string& topic, const std::string& payload, int qos,
                          bool retain) {
  try {
    client_->publish(mqtt::make_message(topic, payload, qos, retain));
  } catch (const mqtt::exception& e) {
    spdlog::warn("MQTT: cannot publish to {}: {}", topic, e.what());
  }
}

void MqttLink::Impl::publish(MqttMessage message) {
  bool send_now = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (message.retain) {
      if (message.payload.empty()) {
        retained_.erase(message.topic);  // deleted on the broker now; nothing to republish
      } else {
        retained_[message.topic] = Cached{message.payload, message.qos, next_order_++};
      }
    }
    send_now = connected_ && client_ != nullptr;
  }
  if (send_now) {
    send(message.topic, message.payload, message.qos, message.retain);
  } else if (!message.retain) {
    spdlog::debug("MQTT: not connected, dropped a message to {}", message.topic);
  }
}

void MqttLink::Impl::subscribe(const std::string& topic_filter) {
  bool send_now = false;
  {
    std::lock_guard lock(mutex_);
    if (!subscriptions_.insert(topic_filter).second || stopping_) return;
    send_now = connected_ && client_ != nullptr;
  }
  if (!send_now) return;  // the connected handler subscribes
  try {
    client_->subscribe(topic_filter, kSubscribeQos, nullptr, subscribe_listener_);
  } catch (const mqtt::exception& e) {
    spdlog::warn("MQTT: cannot subscribe to {}: {}", topic_filter, e.what());
  }
}

void MqttLink::Impl::stop() {
  bool was_connected = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    was_connected = connected_;
  }
  wake_.notify_all();
  if (connector_.joinable()) connector_.join();
  if (!client_) return;
  // A connect that completed while stopping counts as connected too.
  const bool connected = was_connected || client_->is_connected();
  try {
    if (connected) {
      const std::string offline = availability_json(false);
      auto token = client_->publish(mqtt::make_message(state_topic_, offline, 1, true));
      if (!token->wait_for(kStopPublishWait))
        spdlog::warn("MQTT: bridge/state offline not confirmed in time");
    }
  } catch (const std::exception& e) {
    spdlog::warn("MQTT: cannot publish bridge/state offline: {}", e.what());
  }
  try {
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kStopDisconnectWait);
    auto token = client_->disconnect(static_cast<int>(timeout_ms.count()));
    if (!token->wait_for(kStopDisconnectWait + 1s))
      spdlog::warn("MQTT: disconnect not confirmed in time");
  } catch (const std::exception& e) {
    // Not connected (never was, or lost): nothing to close.
    if (connected) spdlog::debug("MQTT: disconnect: {}", e.what());
  }
  {
    std::lock_guard lock(mutex_);
    connected_ = false;
  }
  if (connected) spdlog::info("MQTT: disconnected from {}", config_.server);
}

MqttLink::MqttLink(MqttConfig config, std::function<void(std::function<void()>)> post,
                   EventBus& bus)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(post), bus)) {}

MqttLink::~MqttLink() {
  impl_->stop();
}

void MqttLink::start() {
  impl_->start();
}
void MqttLink::stop() {
  impl_->stop();
}
void MqttLink::publish(MqttMessage message) {
  impl_->publish(std::move(message));
}
void MqttLink::subscribe(const std::string& topic_filter) {
  impl_->subscribe(topic_filter);
}
bool MqttLink::connected() const {
  return impl_->connected();
}

}  // namespace peer2mqtt

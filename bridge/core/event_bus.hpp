// One event interface for all extensions. Listeners are keyed by their owner (an extension), so
// stop() removes exactly its own. A listener that throws is logged as "<owner>/<event>" and the
// others still run (one extension's bug never reaches another). Single-threaded: the bridge's
// thread only. Events published from inside a listener are queued and delivered after the
// current one, in order (no re-entrancy surprises).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "bridge_events.hpp"

namespace peer2mqtt {

class EventBus {
 public:
  using Listener = std::function<void(const BridgeEvent&)>;
  using ErrorSink = std::function<void(const std::string& where, const std::string& what)>;

  explicit EventBus(ErrorSink on_error = {}) : on_error_(std::move(on_error)) {}

  void subscribe(const std::string& owner, Listener listener);
  void unsubscribe(const std::string& owner);
  void publish(BridgeEvent event);
  std::size_t listener_count() const { return listeners_.size(); }

 private:
  struct Entry {
    std::string owner;
    Listener listener;
  };
  std::vector<Entry> listeners_;
  std::deque<BridgeEvent> queue_;
  bool delivering_ = false;
  ErrorSink on_error_;
};

}  // namespace peer2mqtt

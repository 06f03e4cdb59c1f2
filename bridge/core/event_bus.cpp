#include "event_bus.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace peer2mqtt {

namespace {

// Clears a flag however the scope is left, so that one failure (even bad_alloc) does not leave
// the bus believing it is still delivering and queue every later event forever.
class DeliveringGuard {
 public:
  explicit DeliveringGuard(bool& flag) : flag_(flag) { flag_ = true; }
  ~DeliveringGuard() { flag_ = false; }
  DeliveringGuard(const DeliveringGuard&) = delete;
  DeliveringGuard& operator=(const DeliveringGuard&) = delete;

 private:
  bool& flag_;
};

}  // namespace

void EventBus::subscribe(const std::string& owner, Listener listener) {
  // An empty listener would be indistinguishable from a removed one (see unsubscribe).
  if (!listener) return;
  listeners_.push_back(Entry{owner, std::move(listener)});
}

void EventBus::unsubscribe(const std::string& owner) {
  if (delivering_) {
    // Erasing would shift the entries the delivery loop is walking by index: leave an empty
    // listener (skipped, and erased once delivery ends).
    for (auto& entry : listeners_) {
      if (entry.owner == owner) entry.listener = nullptr;
    }
    return;
  }
  std::erase_if(listeners_, [&](const Entry& e) { return e.owner == owner; });
}

void EventBus::publish(BridgeEvent event) {
  queue_.push_back(std::move(event));
  if (delivering_) return;  // a listener published: delivered after the current event

  {
    DeliveringGuard guard(delivering_);
    while (!queue_.empty()) {
      const BridgeEvent current = std::move(queue_.front());
      queue_.pop_front();
      // Listeners subscribed while this event is delivered get the next event, not this one.
      const std::size_t count = listeners_.size();
      for (std::size_t i = 0; i < count && i < listeners_.size(); ++i) {
        if (!listeners_[i].listener) continue;  // unsubscribed meanwhile
        // Copies: a listener may subscribe (growing the vector) or unsubscribe itself while it runs.
        const Listener listener = listeners_[i].listener;
        const std::string owner = listeners_[i].owner;
        std::string what;
        try {
          listener(current);
          continue;
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
          what = "unknown exception";
        }
        if (on_error_) {
          try {
            on_error_(owner + "/" + event_name(current), what);
          } catch (...) {
            // The error sink failing must not stop delivery to the other listeners.
          }
        }
      }
    }
  }
  std::erase_if(listeners_, [](const Entry& e) { return !e.listener; });
}

}  // namespace peer2mqtt

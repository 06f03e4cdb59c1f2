// What extensions may ask the bridge to do with devices. The runtime (Controller) implements it
// on the HomeP2P Node; unit tests implement it in memory. Completions run on the bridge's thread.
// Every failure is a value with words fit for a bridge/response `error` field.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "homep2p/messages.hpp"
#include "homep2p/result.hpp"

namespace peer2mqtt {

struct ActionResult {
  bool ok = false;
  std::string result;  // SUCCESS, OVERLOAD, ACCESSDENIED, LOCAL:<why>, OK, NOLEASE, ... or empty
  std::string error;   // human-readable, empty when ok
  homep2p::ValueMap values;  // invoke results
};
using ActionDone = std::function<void(ActionResult)>;

class DeviceActions {
 public:
  virtual ~DeviceActions() = default;

  // The bridge's own connection with a device (credentials from the bridge's config). On
  // SUCCESS the bridge also rents the device's services and its ConnectionManager.
  virtual void connect(const std::string& device_id, ActionDone done) = 0;
  virtual void disconnect(const std::string& device_id, ActionDone done) = 0;
  // Device-to-device, through `device_id`'s ConnectionManager (the bridge connects to it first
  // if needed): it connects to / leaves `other_id`.
  virtual void connect_between(const std::string& device_id, const std::string& other_id,
                               ActionDone done) = 0;
  virtual void disconnect_between(const std::string& device_id, const std::string& other_id,
                                  ActionDone done) = 0;
  // Invokes an action of a rented service (connected devices only).
  virtual void invoke(const std::string& device_id, const std::string& service_id,
                      const std::string& action, homep2p::ValueMap arguments, ActionDone done) = 0;
  // Remote configuration of a device (patent claim 2) through an admin account.
  virtual void configure(const std::string& device_id, homep2p::Configure request, ActionDone done) = 0;
  // A DeviceSearch on the LAN; answers arrive as DeviceAnnounced.
  virtual void search(const homep2p::SearchConditions& conditions, std::uint32_t mx) = 0;
  // Persist what changed in the registry (wanted flags, names, known devices), soon.
  virtual void save_state() = 0;
};

}  // namespace peer2mqtt

// The devices we have heard of on the discovery channel (patent steps B/C), sans-IO.
// Why a separate module: the discovery agent, the bridge's device list and the tests all need one
// answer to "is this announce news?", and expiry by max-age must be driven by the caller's clock.
//
// Rules (docs/PROTOCOL.md, "Discovery"):
// - A DeviceAnnounce for an unknown device id -> DeviceAppeared.
// - For a known id, a change in anything but max_age and search_id (name, type, address, port,
//   services, security, boot id) or in the datagram's source address -> DeviceUpdated; otherwise it
//   is only a refresh (no event). Every announce restarts the device's max-age.
// - A DeviceByeBye removes the device only if its boot id matches the cached one: a late bye-bye
//   from a previous boot must not remove a device that has restarted since (and an injected
//   bye-bye has to guess the 64-bit boot id). Mismatches are counted and otherwise ignored.
// - A device whose max-age passes unrefreshed is gone (expire()).
// - Our own device id is ignored. The cache is bounded: at max_devices, announces of new devices
//   are dropped (and counted) until a known one leaves, so a flood cannot grow memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "homep2p/messages.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

inline constexpr std::size_t kDefaultMaxDevices = 1024;

struct KnownDevice {
  DeviceAnnounce announce;     // the latest announce, search_id cleared
  std::string source_address;  // where the latest announce came from
  TimePoint first_seen{};
  TimePoint last_seen{};
  TimePoint expires_at{};      // last_seen + max_age
};

struct DeviceAppeared {
  DeviceAnnounce device;
  std::string source_address;
};

struct DeviceUpdated {
  DeviceAnnounce device;
  DeviceAnnounce previous;
  std::string source_address;
  bool rebooted = false;  // the boot id changed: the device restarted (its connections are gone)
};

enum class LeaveCause { ByeBye, Expired };
std::string_view to_string(LeaveCause c);

struct DeviceLeft {
  DeviceAnnounce device;  // the last announce we had
  LeaveCause cause = LeaveCause::ByeBye;
};

using CacheEvent = std::variant<DeviceAppeared, DeviceUpdated, DeviceLeft>;

struct CacheStats {
  std::uint64_t dropped_full = 0;       // announces of new devices dropped: cache at max_devices
  std::uint64_t stale_byebyes = 0;      // bye-byes whose boot id did not match
  std::uint64_t unknown_byebyes = 0;    // bye-byes for devices we did not know
};

class AnnouncementCache {
 public:
  using DeviceMap = std::map<std::string, KnownDevice, std::less<>>;

  explicit AnnouncementCache(std::string own_device_id,
                             std::size_t max_devices = kDefaultMaxDevices)
      : own_id_(std::move(own_device_id)), max_devices_(max_devices) {}

  // An announce (multicast or a unicast search answer) received from source_address.
  // Returns DeviceAppeared / DeviceUpdated, or nullopt for a refresh, our own id, or a drop.
  std::optional<CacheEvent> observe(const DeviceAnnounce& announce, std::string source_address,
                                    TimePoint now);
  // Returns DeviceLeft{ByeBye} if the device was known with the same boot id, else nullopt.
  std::optional<CacheEvent> bye(const DeviceByeBye& bye_bye, TimePoint now);
  // Drops a device without an event (the user removed it): its next announce is news again.
  bool forget(std::string_view device_id);
  // Removes every device whose expires_at <= now; one DeviceLeft{Expired} each, by device id.
  std::vector<CacheEvent> expire(TimePoint now);
  // The earliest expires_at; nullopt when empty. Call expire() once it has passed.
  std::optional<TimePoint> next_deadline() const;

  const DeviceMap& devices() const { return devices_; }
  const KnownDevice* find(std::string_view device_id) const;
  std::size_t size() const { return devices_.size(); }
  std::size_t max_devices() const { return max_devices_; }
  const std::string& own_device_id() const { return own_id_; }
  const CacheStats& stats() const { return stats_; }

 private:
  std::string own_id_;
  std::size_t max_devices_;
  DeviceMap devices_;
  CacheStats stats_;
};

}  // namespace homep2p

#include "homep2p/announcement_cache.hpp"

#include <utility>

namespace homep2p {

namespace {

// What an announce says about the device itself: max_age only sets how long the entry lives and
// search_id only ties an answer to a search, so neither makes an announce "changed".
bool same_device_facts(const DeviceAnnounce& a, const DeviceAnnounce& b) {
  return a.device_id == b.device_id && a.device_type == b.device_type &&
         a.friendly_name == b.friendly_name && a.address == b.address && a.port == b.port &&
         a.services == b.services && a.security == b.security && a.boot_id == b.boot_id;
}

TimePoint expiry_of(const DeviceAnnounce& announce, TimePoint now) {
  return now + seconds(announce.max_age);
}

}  // namespace

std::string_view to_string(LeaveCause c) {
  switch (c) {
    case LeaveCause::ByeBye: return "byebye";
    case LeaveCause::Expired: return "expired";
  }
  return "unknown";
}

std::optional<CacheEvent> AnnouncementCache::observe(const DeviceAnnounce& announce,
                                                     std::string source_address, TimePoint now) {
  if (announce.device_id == own_id_) return std::nullopt;  // our own multicast, looped back

  DeviceAnnounce stored = announce;
  stored.search_id.reset();

  auto it = devices_.find(announce.device_id);
  if (it == devices_.end()) {
    if (devices_.size() >= max_devices_) {
      ++stats_.dropped_full;
      return std::nullopt;
    }
    KnownDevice entry{stored, source_address, now, now, expiry_of(stored, now)};
    devices_.emplace(stored.device_id, std::move(entry));
    return DeviceAppeared{std::move(stored), std::move(source_address)};
  }

  KnownDevice& entry = it->second;
  entry.last_seen = now;
  entry.expires_at = expiry_of(stored, now);
  const bool changed =
      !same_device_facts(entry.announce, stored) || entry.source_address != source_address;
  if (!changed) {
    entry.announce.max_age = stored.max_age;  // a refresh may still change how long it lives
    return std::nullopt;
  }
  DeviceUpdated event{stored, std::move(entry.announce), source_address, false};
  event.rebooted = event.previous.boot_id != stored.boot_id;
  entry.announce = std::move(stored);
  entry.source_address = std::move(source_address);
  return event;
}

std::optional<CacheEvent> AnnouncementCache::bye(const DeviceByeBye& bye_bye, TimePoint /*now*/) {
  auto it = devices_.find(bye_bye.device_id);
  if (it == devices_.end()) {
    // Includes our own id, which is never in the cache.
    if (bye_bye.device_id != own_id_) ++stats_.unknown_byebyes;
    return std::nullopt;
  }
  if (it->second.announce.boot_id != bye_bye.boot_id) {
    ++stats_.stale_byebyes;
    return std::nullopt;
  }
  DeviceLeft event{std::move(it->second.announce), LeaveCause::ByeBye};
  devices_.erase(it);
  return event;
}

std::vector<CacheEvent> AnnouncementCache::expire(TimePoint now) {
  std::vector<CacheEvent> events;
  for (auto it = devices_.begin(); it != devices_.end();) {
    if (it->second.expires_at <= now) {
      events.emplace_back(DeviceLeft{std::move(it->second.announce), LeaveCause::Expired});
      it = devices_.erase(it);
    } else {
      ++it;
    }
  }
  return events;
}

std::optional<TimePoint> AnnouncementCache::next_deadline() const {
  std::optional<TimePoint> earliest;
  for (const auto& [id, entry] : devices_) {
    if (!earliest || entry.expires_at < *earliest) earliest = entry.expires_at;
  }
  return earliest;
}

const KnownDevice* AnnouncementCache::find(std::string_view device_id) const {
  auto it = devices_.find(device_id);
  return it == devices_.end() ? nullptr : &it->second;
}

bool AnnouncementCache::forget(std::string_view device_id) {
  const auto it = devices_.find(device_id);
  if (it == devices_.end()) return false;
  devices_.erase(it);
  return true;
}

}  // namespace homep2p

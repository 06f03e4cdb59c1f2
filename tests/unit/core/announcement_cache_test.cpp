// AnnouncementCache: which announces are news (patent step B: devices announce themselves; a
// device that leaves says bye-bye or stops refreshing its max-age).
#include "homep2p/announcement_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "test_support.hpp"

namespace homep2p {
namespace {

using test::kT0;

constexpr const char* kOwnId = "00000000-0000-4000-8000-000000000000";
constexpr const char* kLampId = "11111111-1111-4111-8111-111111111111";
constexpr const char* kTvId = "22222222-2222-4222-8222-222222222222";

DeviceAnnounce make_announce(std::string id, std::uint32_t max_age = 60, std::uint64_t boot_id = 7) {
  DeviceAnnounce a;
  a.device_id = std::move(id);
  a.device_type = "Light";
  a.friendly_name = "Hall lamp";
  a.address = "192.0.2.10";
  a.port = 7789;
  a.services = {{"light-1", "BinaryLight"}};
  a.max_age = max_age;
  a.boot_id = boot_id;
  return a;
}

std::string id_of_left(const CacheEvent& e) { return std::get<DeviceLeft>(e).device.device_id; }

TEST(AnnouncementCache, UnknownDeviceAppearsWithItsSourceAddress) {  // patent step B
  AnnouncementCache cache(kOwnId);
  auto event = cache.observe(make_announce(kLampId), "192.0.2.10", kT0);
  ASSERT_TRUE(event.has_value());
  const auto* appeared = std::get_if<DeviceAppeared>(&*event);
  ASSERT_NE(appeared, nullptr);
  EXPECT_EQ(appeared->device, make_announce(kLampId));
  EXPECT_EQ(appeared->source_address, "192.0.2.10");
  const KnownDevice* known = cache.find(kLampId);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->first_seen, kT0);
  EXPECT_EQ(known->expires_at, kT0 + seconds(60));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.devices().count(kLampId), 1u);
}

TEST(AnnouncementCache, OwnDeviceIdIsIgnored) {
  AnnouncementCache cache(kOwnId);
  EXPECT_FALSE(cache.observe(make_announce(kOwnId), "127.0.0.1", kT0).has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.find(kOwnId), nullptr);
}

TEST(AnnouncementCache, UnchangedAnnounceIsARefreshThatExtendsTheMaxAge) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId), "192.0.2.10", kT0));
  EXPECT_FALSE(cache.observe(make_announce(kLampId), "192.0.2.10", kT0 + seconds(30)).has_value());
  const KnownDevice* known = cache.find(kLampId);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->last_seen, kT0 + seconds(30));
  EXPECT_EQ(known->expires_at, kT0 + seconds(90));
  EXPECT_EQ(known->first_seen, kT0);
}

TEST(AnnouncementCache, MaxAgeOrSearchIdAloneIsNotAnUpdate) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId), "192.0.2.10", kT0));
  DeviceAnnounce answer = make_announce(kLampId, 120);
  answer.search_id = 99;  // a unicast search answer
  EXPECT_FALSE(cache.observe(answer, "192.0.2.10", kT0 + seconds(1)).has_value());
  const KnownDevice* known = cache.find(kLampId);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->expires_at, kT0 + seconds(121));
  EXPECT_EQ(known->announce.max_age, 120u);
  EXPECT_FALSE(known->announce.search_id.has_value()) << "the cache stores the announce, not the answer";
}

TEST(AnnouncementCache, ChangedFieldsRaiseUpdatedWithThePreviousAnnounce) {
  struct Case {
    const char* what;
    void (*change)(DeviceAnnounce&);
  };
  const Case cases[] = {
      {"name", [](DeviceAnnounce& a) { a.friendly_name = "Porch lamp"; }},
      {"address", [](DeviceAnnounce& a) { a.address = "192.0.2.11"; }},
      {"port", [](DeviceAnnounce& a) { a.port = 7790; }},
      {"services", [](DeviceAnnounce& a) { a.services.push_back({"dim-1", "Dimming"}); }},
      {"device type", [](DeviceAnnounce& a) { a.device_type = "DimmableLight"; }},
      {"security", [](DeviceAnnounce& a) { a.security.auth_required = false; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    AnnouncementCache cache(kOwnId);
    ASSERT_TRUE(cache.observe(make_announce(kLampId), "192.0.2.10", kT0));
    DeviceAnnounce changed = make_announce(kLampId);
    c.change(changed);
    auto event = cache.observe(changed, "192.0.2.10", kT0 + seconds(5));
    ASSERT_TRUE(event.has_value());
    const auto* updated = std::get_if<DeviceUpdated>(&*event);
    ASSERT_NE(updated, nullptr);
    EXPECT_EQ(updated->device, changed);
    EXPECT_EQ(updated->previous, make_announce(kLampId));
    EXPECT_FALSE(updated->rebooted);
    EXPECT_EQ(cache.find(kLampId)->announce, changed);
    EXPECT_EQ(cache.find(kLampId)->expires_at, kT0 + seconds(65));
  }
}

TEST(AnnouncementCache, NewBootIdIsAnUpdateMarkedRebooted) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 60, 7), "192.0.2.10", kT0));
  auto event = cache.observe(make_announce(kLampId, 60, 8), "192.0.2.10", kT0 + seconds(1));
  ASSERT_TRUE(event.has_value());
  const auto* updated = std::get_if<DeviceUpdated>(&*event);
  ASSERT_NE(updated, nullptr);
  EXPECT_TRUE(updated->rebooted);
  EXPECT_EQ(updated->previous.boot_id, 7u);
  EXPECT_EQ(updated->device.boot_id, 8u);
}

TEST(AnnouncementCache, NewSourceAddressIsAnUpdate) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId), "192.0.2.10", kT0));
  auto event = cache.observe(make_announce(kLampId), "192.0.2.99", kT0 + seconds(1));
  ASSERT_TRUE(event.has_value());
  const auto* updated = std::get_if<DeviceUpdated>(&*event);
  ASSERT_NE(updated, nullptr);
  EXPECT_EQ(updated->source_address, "192.0.2.99");
  EXPECT_EQ(cache.find(kLampId)->source_address, "192.0.2.99");
}

TEST(AnnouncementCache, ByeByeWithTheCachedBootIdRemovesTheDevice) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 60, 7), "192.0.2.10", kT0));
  auto event = cache.bye(DeviceByeBye{kLampId, 7}, kT0 + seconds(2));
  ASSERT_TRUE(event.has_value());
  const auto* left = std::get_if<DeviceLeft>(&*event);
  ASSERT_NE(left, nullptr);
  EXPECT_EQ(left->cause, LeaveCause::ByeBye);
  EXPECT_EQ(left->device, make_announce(kLampId, 60, 7));
  EXPECT_EQ(cache.find(kLampId), nullptr);
  EXPECT_FALSE(cache.next_deadline().has_value());
}

TEST(AnnouncementCache, ByeByeFromAnotherBootIsIgnoredAndCounted) {
  // A bye-bye of the previous boot, arriving late, must not remove the restarted device.
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 60, 8), "192.0.2.10", kT0));
  EXPECT_FALSE(cache.bye(DeviceByeBye{kLampId, 7}, kT0 + seconds(1)).has_value());
  EXPECT_NE(cache.find(kLampId), nullptr);
  EXPECT_EQ(cache.stats().stale_byebyes, 1u);
}

TEST(AnnouncementCache, ByeByeForAnUnknownDeviceIsCounted) {
  AnnouncementCache cache(kOwnId);
  EXPECT_FALSE(cache.bye(DeviceByeBye{kTvId, 1}, kT0).has_value());
  EXPECT_EQ(cache.stats().unknown_byebyes, 1u);
}

TEST(AnnouncementCache, UnrefreshedDeviceExpiresExactlyAtMaxAge) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 10), "192.0.2.10", kT0));
  ASSERT_TRUE(cache.observe(make_announce(kTvId, 20), "192.0.2.20", kT0));
  EXPECT_EQ(cache.next_deadline(), kT0 + seconds(10));
  EXPECT_TRUE(cache.expire(kT0 + seconds(10) - milliseconds(1)).empty());
  auto events = cache.expire(kT0 + seconds(10));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(id_of_left(events[0]), kLampId);
  EXPECT_EQ(std::get<DeviceLeft>(events[0]).cause, LeaveCause::Expired);
  EXPECT_EQ(cache.next_deadline(), kT0 + seconds(20));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AnnouncementCache, RefreshPostponesExpiry) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 10), "192.0.2.10", kT0));
  EXPECT_FALSE(cache.observe(make_announce(kLampId, 10), "192.0.2.10", kT0 + seconds(5)));
  EXPECT_TRUE(cache.expire(kT0 + seconds(10)).empty());
  EXPECT_EQ(cache.next_deadline(), kT0 + seconds(15));
  EXPECT_EQ(cache.expire(kT0 + seconds(15)).size(), 1u);
}

TEST(AnnouncementCache, ExpireReportsEveryOverdueDevice) {
  AnnouncementCache cache(kOwnId);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 10), "192.0.2.10", kT0));
  ASSERT_TRUE(cache.observe(make_announce(kTvId, 20), "192.0.2.20", kT0));
  auto events = cache.expire(kT0 + seconds(60));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(id_of_left(events[0]), kLampId);  // by device id
  EXPECT_EQ(id_of_left(events[1]), kTvId);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.next_deadline().has_value());
}

TEST(AnnouncementCache, FullCacheDropsNewDevicesButStillRefreshesKnownOnes) {
  AnnouncementCache cache(kOwnId, 2);
  ASSERT_TRUE(cache.observe(make_announce(kLampId, 10), "192.0.2.10", kT0));
  ASSERT_TRUE(cache.observe(make_announce(kTvId, 10), "192.0.2.20", kT0));
  const std::string third = "33333333-3333-4333-8333-333333333333";
  EXPECT_FALSE(cache.observe(make_announce(third), "192.0.2.30", kT0).has_value());
  EXPECT_EQ(cache.stats().dropped_full, 1u);
  EXPECT_EQ(cache.find(third), nullptr);
  EXPECT_EQ(cache.size(), 2u);

  DeviceAnnounce renamed = make_announce(kLampId, 10);
  renamed.friendly_name = "Kitchen lamp";
  auto update = cache.observe(renamed, "192.0.2.10", kT0 + seconds(1));
  ASSERT_TRUE(update.has_value());
  EXPECT_TRUE(std::holds_alternative<DeviceUpdated>(*update));

  ASSERT_TRUE(cache.bye(DeviceByeBye{kTvId, 7}, kT0 + seconds(2)));
  auto appeared = cache.observe(make_announce(third), "192.0.2.30", kT0 + seconds(3));
  ASSERT_TRUE(appeared.has_value());
  EXPECT_TRUE(std::holds_alternative<DeviceAppeared>(*appeared)) << "room again after a device left";
}

TEST(AnnouncementCache, LeaveCauseHasWireStyleNames) {
  EXPECT_EQ(to_string(LeaveCause::ByeBye), "byebye");
  EXPECT_EQ(to_string(LeaveCause::Expired), "expired");
}

}  // namespace
}  // namespace homep2p

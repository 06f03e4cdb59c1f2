#include "core/device_registry.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace peer2mqtt {
namespace {

constexpr const char* kIdA = "aaaaaaaa-1111-4000-8000-000000000001";
constexpr const char* kIdB = "bbbbbbbb-2222-4000-8000-000000000002";
constexpr const char* kIdC = "bbbbbbbb-3333-4000-8000-000000000003";  // same first 8 characters as B

TEST(DeviceRegistry, NewDeviceTakesItsAdvertisedName) {
  DeviceRegistry r;
  const DeviceRecord& d = r.upsert(kIdA, "Kitchen Lamp");
  EXPECT_EQ(d.device_id, kIdA);
  EXPECT_EQ(d.friendly_name, "Kitchen Lamp");
  EXPECT_EQ(r.all().size(), 1U);
}

TEST(DeviceRegistry, UpsertOfAKnownDeviceKeepsItsNameAndRecord) {
  DeviceRegistry r;
  DeviceRecord& first = r.upsert(kIdA, "Lamp");
  first.wanted = true;
  DeviceRecord& again = r.upsert(kIdA, "Another Name");
  EXPECT_EQ(&first, &again);
  EXPECT_EQ(again.friendly_name, "Lamp");
  EXPECT_TRUE(again.wanted);
  EXPECT_EQ(r.all().size(), 1U);
}

TEST(DeviceRegistry, TopicWildcardsSlashesAndControlCharactersAreReplacedByUnderscore) {
  DeviceRegistry r;
  EXPECT_EQ(r.upsert(kIdA, "Living/Room+#1").friendly_name, "Living_Room__1");
  EXPECT_EQ(r.upsert(kIdB, std::string("a\nb\tc\x7f", 6)).friendly_name, "a_b_c_");
}

TEST(DeviceRegistry, HintIsTrimmed) {
  DeviceRegistry r;
  EXPECT_EQ(r.upsert(kIdA, "  Lamp  ").friendly_name, "Lamp");
}

TEST(DeviceRegistry, HintIsCutTo64CharactersWithoutSplittingUtf8) {
  DeviceRegistry r;
  EXPECT_EQ(r.upsert(kIdA, std::string(100, 'x')).friendly_name, std::string(64, 'x'));
  // 63 ASCII bytes then a 2-byte character: the cut falls inside it, so it goes entirely.
  const std::string hint = std::string(63, 'y') + "\xC3\xA9" + "zz";
  EXPECT_EQ(r.upsert(kIdB, hint).friendly_name, std::string(63, 'y'));
}

TEST(DeviceRegistry, EmptyOrBlankHintFallsBackToTheDeviceId) {
  DeviceRegistry r;
  EXPECT_EQ(r.upsert(kIdA, "").friendly_name, kIdA);
  EXPECT_EQ(r.upsert(kIdB, "   ").friendly_name, kIdB);
}

TEST(DeviceRegistry, CollidingNameGetsUnderscoreAndFirstEightCharactersOfTheId) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  EXPECT_EQ(r.upsert(kIdB, "Lamp").friendly_name, "Lamp_bbbbbbbb");
}

TEST(DeviceRegistry, SecondCollisionWithTheSameIdPrefixStillGetsAUniqueName) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  r.upsert(kIdB, "Lamp");
  const std::string third = r.upsert(kIdC, "Lamp").friendly_name;
  EXPECT_NE(third, "Lamp");
  EXPECT_NE(third, "Lamp_bbbbbbbb");
  EXPECT_TRUE(DeviceRegistry::valid_name(third));
}

TEST(DeviceRegistry, CollisionSuffixKeepsLongNamesWithin64Characters) {
  DeviceRegistry r;
  const std::string long_name(64, 'n');
  r.upsert(kIdA, long_name);
  const std::string second = r.upsert(kIdB, long_name).friendly_name;
  EXPECT_EQ(second.size(), 64U);
  EXPECT_EQ(second, std::string(55, 'n') + "_bbbbbbbb");
}

TEST(DeviceRegistry, ReservedNameBridgeIsNeverGiven) {
  DeviceRegistry r;
  EXPECT_EQ(r.upsert(kIdA, "bridge").friendly_name, "bridge_aaaaaaaa");
}

TEST(DeviceRegistry, NameEqualToAnotherDevicesIdIsTreatedAsTaken) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  // Otherwise resolve(kIdA) would find this device by name instead of the device with that id.
  EXPECT_NE(r.upsert(kIdB, kIdA).friendly_name, kIdA);
  EXPECT_EQ(r.resolve(kIdA)->device_id, kIdA);
}

TEST(DeviceRegistry, ResolveFindsByFriendlyNameThenByDeviceId) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  r.upsert(kIdB, "Switch");
  ASSERT_NE(r.resolve("Lamp"), nullptr);
  EXPECT_EQ(r.resolve("Lamp")->device_id, kIdA);
  ASSERT_NE(r.resolve(kIdB), nullptr);
  EXPECT_EQ(r.resolve(kIdB)->friendly_name, "Switch");
  EXPECT_EQ(r.resolve("Nobody"), nullptr);
  EXPECT_EQ(r.resolve(""), nullptr);
}

TEST(DeviceRegistry, FindIsByDeviceIdOnly) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  EXPECT_NE(r.find(kIdA), nullptr);
  EXPECT_EQ(r.find("Lamp"), nullptr);
  const DeviceRegistry& cr = r;
  EXPECT_NE(cr.find(kIdA), nullptr);
}

TEST(DeviceRegistry, RenameChangesTheNameUsedByResolve) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  EXPECT_EQ(r.rename(kIdA, "Desk Lamp"), std::nullopt);
  EXPECT_EQ(r.find(kIdA)->friendly_name, "Desk Lamp");
  EXPECT_EQ(r.resolve("Lamp"), nullptr);
  EXPECT_EQ(r.resolve("Desk Lamp")->device_id, kIdA);
}

TEST(DeviceRegistry, RenameToItsOwnNameIsAccepted) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  EXPECT_EQ(r.rename(kIdA, "Lamp"), std::nullopt);
}

TEST(DeviceRegistry, RenameToANameTakenByAnotherDeviceIsRefused) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  r.upsert(kIdB, "Switch");
  const auto error = r.rename(kIdB, "Lamp");
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("already used"), std::string::npos) << *error;
  EXPECT_EQ(r.find(kIdB)->friendly_name, "Switch");
  EXPECT_TRUE(r.rename(kIdB, kIdA).has_value());  // another device's id
}

TEST(DeviceRegistry, RenameToAnInvalidTopicLevelIsRefused) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  const std::vector<std::string> bad_names = {"",     "a/b",   "a+b",   "a#", std::string(65, 'x'), "a\nb",
                                             " lamp", "lamp ", "bridge"};
  for (const std::string& bad : bad_names) {
    const auto error = r.rename(kIdA, bad);
    ASSERT_TRUE(error.has_value()) << "'" << bad << "'";
    EXPECT_NE(error->find("invalid name"), std::string::npos) << *error;
  }
  EXPECT_EQ(r.find(kIdA)->friendly_name, "Lamp");
}

TEST(DeviceRegistry, RenameOfAnUnknownDeviceIsAnError) {
  DeviceRegistry r;
  const auto error = r.rename(kIdA, "Lamp");
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("unknown device"), std::string::npos);
}

TEST(DeviceRegistry, RemoveForgetsTheDeviceAndFreesItsName) {
  DeviceRegistry r;
  r.upsert(kIdA, "Lamp");
  EXPECT_TRUE(r.remove(kIdA));
  EXPECT_FALSE(r.remove(kIdA));
  EXPECT_EQ(r.find(kIdA), nullptr);
  EXPECT_EQ(r.upsert(kIdB, "Lamp").friendly_name, "Lamp");
}

TEST(DeviceRegistry, ValidNameAcceptsOneTopicLevelOfAtMost64Characters) {
  EXPECT_TRUE(DeviceRegistry::valid_name("Lamp"));
  EXPECT_TRUE(DeviceRegistry::valid_name("Küche Licht"));
  EXPECT_TRUE(DeviceRegistry::valid_name(std::string(64, 'x')));
  EXPECT_FALSE(DeviceRegistry::valid_name(std::string(65, 'x')));
  EXPECT_FALSE(DeviceRegistry::valid_name(""));
  EXPECT_FALSE(DeviceRegistry::valid_name("a/b"));
  EXPECT_FALSE(DeviceRegistry::valid_name("+"));
  EXPECT_FALSE(DeviceRegistry::valid_name("#"));
  EXPECT_FALSE(DeviceRegistry::valid_name(std::string("a\0b", 3)));
}

TEST(DeviceRegistry, LinkStateNamesAreTheStateTopicValues) {
  EXPECT_EQ(to_string(LinkState::Disconnected), "disconnected");
  EXPECT_EQ(to_string(LinkState::Connecting), "connecting");
  EXPECT_EQ(to_string(LinkState::Connected), "connected");
  EXPECT_EQ(to_string(LinkState::Failed), "failed");
}

}  // namespace
}  // namespace peer2mqtt

// The device configuration file (patent claim 2: accounts, max parallel connection number and
// whether authentication is required come from the device's own configuration).
#include "homep2p/device_config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace homep2p {
namespace {

constexpr const char* kLampId = "6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10";
constexpr const char* kOtherId = "3b9e5d21-7c4a-4f8e-b2d6-1a0c9e7f5b32";

constexpr const char* kMinimal = R"(
device:
  id: 6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10
  type: Lamp
security:
  authentication: none
)";

constexpr const char* kFull = R"(
device:
  id: 6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10
  type: DimmableLight
  name: Living room lamp
network:
  interface: lo
  port: 4242
  multicast_group: 239.1.2.3
  multicast_port: 7000
  max_age: 120
  keepalive: 20
security:
  authentication: required
  max_connections: 3
  accounts:
    - user: alice
      password: secret
      role: admin
    - user: bob
      password: hunter2
credentials:
  default:
    user: carol
    password: carolpw
  devices:
    3b9e5d21-7c4a-4f8e-b2d6-1a0c9e7f5b32:
      user: dave
      password: davepw
services:
  - id: power
    type: SwitchPower
  - id: level
    type: Dimming
)";

// Asserts the text is rejected with Errc::Config, the origin, the key path and `expected`.
void expect_error(const std::string& yaml, const std::string& key, const std::string& expected) {
  auto r = parse_device_config(yaml, "test.yaml");
  ASSERT_FALSE(r) << "accepted:\n" << yaml;
  EXPECT_EQ(r.error().code, Errc::Config);
  const std::string& m = r.error().message;
  EXPECT_EQ(m.rfind("test.yaml: ", 0), 0u) << m;
  EXPECT_NE(m.find(key), std::string::npos) << "key '" << key << "' not in: " << m;
  EXPECT_NE(m.find(expected), std::string::npos) << "'" << expected << "' not in: " << m;
}

// kMinimal with extra sections appended.
std::string minimal_with(const std::string& extra) {
  return std::string(kMinimal) + extra;
}

std::string with_security(const std::string& security) {
  return std::string("device:\n  id: ") + kLampId + "\n  type: Lamp\nsecurity:\n" + security;
}

// ---- valid files ----

TEST(DeviceConfig, AFullFileSetsEveryField) {
  auto r = parse_device_config(kFull, "full.yaml");
  ASSERT_TRUE(r) << r.error().message;
  const DeviceConfig& c = *r;
  EXPECT_EQ(c.device_id, kLampId);
  EXPECT_EQ(c.device_type, "DimmableLight");
  EXPECT_EQ(c.friendly_name, "Living room lamp");
  EXPECT_EQ(c.interface, "lo");
  EXPECT_EQ(c.port, 4242);
  EXPECT_EQ(c.multicast_group, "239.1.2.3");
  EXPECT_EQ(c.multicast_port, 7000);
  EXPECT_EQ(c.max_age, 120u);
  EXPECT_EQ(c.keepalive_interval, 20u);
  EXPECT_TRUE(c.auth_required);
  EXPECT_EQ(c.max_connections, 3u);
  ASSERT_EQ(c.accounts.size(), 2u);
  EXPECT_EQ(c.accounts[0].user, "alice");
  EXPECT_EQ(c.accounts[0].role, AccountRole::Admin);
  EXPECT_EQ(c.accounts[1].user, "bob");
  EXPECT_EQ(c.accounts[1].role, AccountRole::User);  // the default role
  ASSERT_TRUE(c.default_credential.has_value());
  EXPECT_EQ(c.default_credential->user, "carol");
  ASSERT_EQ(c.credentials.size(), 1u);
  EXPECT_EQ(c.credentials.at(kOtherId).user, "dave");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0].id, "power");
  EXPECT_EQ(c.services[0].type, "SwitchPower");
  EXPECT_EQ(c.services[1].id, "level");
  EXPECT_EQ(c.services[1].type, "Dimming");
}

TEST(DeviceConfig, PasswordsBecomeTheShareKeyOfUserAndPassword) {
  auto r = parse_device_config(kFull, "full.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->accounts[0].key, derive_share_key("secret", "alice"));
  EXPECT_EQ(r->accounts[1].key, derive_share_key("hunter2", "bob"));
  EXPECT_NE(r->accounts[0].key, r->accounts[1].key);
  EXPECT_EQ(r->default_credential->key, derive_share_key("carolpw", "carol"));
  EXPECT_EQ(r->credentials.at(kOtherId).key, derive_share_key("davepw", "dave"));
}

TEST(DeviceConfig, OptionalSectionsAndKeysTakeTheirDefaults) {
  auto r = parse_device_config(kMinimal, "min.yaml");
  ASSERT_TRUE(r) << r.error().message;
  const DeviceConfig& c = *r;
  EXPECT_EQ(c.friendly_name, "Lamp");  // name defaults to the type
  EXPECT_EQ(c.interface, "127.0.0.1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.multicast_group, "239.255.77.1");
  EXPECT_EQ(c.multicast_port, 7788);
  EXPECT_EQ(c.max_age, 30u);
  EXPECT_EQ(c.keepalive_interval, 15u);
  EXPECT_FALSE(c.auth_required);
  EXPECT_EQ(c.max_connections, 8u);
  EXPECT_TRUE(c.accounts.empty());
  EXPECT_FALSE(c.default_credential.has_value());
  EXPECT_TRUE(c.credentials.empty());
  EXPECT_TRUE(c.services.empty());
}

TEST(DeviceConfig, AuthenticationDefaultsToRequired) {
  auto r = parse_device_config(with_security("  max_connections: 2\n"), "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->auth_required);
  EXPECT_EQ(r->max_connections, 2u);
}

TEST(DeviceConfig, RequiredAuthenticationWithoutAccountsIsValid) {
  auto r = parse_device_config(with_security("  authentication: required\n"), "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->auth_required);
  EXPECT_TRUE(r->accounts.empty());
}

TEST(DeviceConfig, EmptySectionsMeanTheSameAsLeavingThemOut) {
  auto r = parse_device_config(minimal_with("network:\ncredentials:\nservices:\n"), "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->multicast_port, 7788);
  EXPECT_TRUE(r->services.empty());
  auto r2 = parse_device_config(with_security("  accounts: []\n"), "t.yaml");
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_TRUE(r2->accounts.empty());
}

TEST(DeviceConfig, UuidsAreStoredInLowercase) {
  std::string yaml =
      "device:\n  id: 6F1C2A4E-0B7D-4C1E-9A53-2D8F4E6B7A10\n  type: Lamp\nsecurity:\n"
      "  authentication: none\ncredentials:\n  devices:\n"
      "    3B9E5D21-7C4A-4F8E-B2D6-1A0C9E7F5B32: {user: dave, password: davepw}\n";
  auto r = parse_device_config(yaml, "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->device_id, kLampId);
  EXPECT_EQ(r->credentials.count(kOtherId), 1u);
}

TEST(DeviceConfig, BoundaryValuesAreAccepted) {
  auto r = parse_device_config(
      minimal_with("network:\n  port: 65535\n  multicast_port: 1\n  max_age: 2\n"
                   "  keepalive: 3600\n  multicast_group: ff02::77\n"),
      "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->port, 65535);
  EXPECT_EQ(r->multicast_port, 1);
  EXPECT_EQ(r->max_age, 2u);
  EXPECT_EQ(r->keepalive_interval, 3600u);
  EXPECT_EQ(r->multicast_group, "ff02::77");
  auto r2 = parse_device_config(
      with_security("  max_connections: 65535\n  accounts:\n"
                    "    - {user: abcdefghijklmnopqrstuvwxyz012345, password: p}\n"),
      "t.yaml");
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->max_connections, 65535u);
  EXPECT_EQ(r2->accounts.at(0).user.size(), 32u);
}

// ---- credential_for ----

TEST(DeviceConfig, CredentialForPrefersTheDevicesOwnEntryThenTheDefault) {
  auto r = parse_device_config(kFull, "full.yaml");
  ASSERT_TRUE(r) << r.error().message;
  auto own = r->credential_for(kOtherId);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->user, "dave");
  auto own_upper = r->credential_for("3B9E5D21-7C4A-4F8E-B2D6-1A0C9E7F5B32");
  ASSERT_TRUE(own_upper.has_value());
  EXPECT_EQ(own_upper->user, "dave");
  auto fallback = r->credential_for("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(fallback.has_value());
  EXPECT_EQ(fallback->user, "carol");
}

TEST(DeviceConfig, CredentialForIsEmptyWithoutADefault) {
  auto r = parse_device_config(kMinimal, "min.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->credential_for(kOtherId).has_value());
}

// ---- is_uuid ----

TEST(IsUuid, AcceptsCanonicalUuidTextInEitherCase) {
  EXPECT_TRUE(is_uuid("6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10"));
  EXPECT_TRUE(is_uuid("6F1C2A4E-0B7D-4C1E-9A53-2D8F4E6B7A10"));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
}

TEST(IsUuid, RejectsAnythingElse) {
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("6f1c2a4e0b7d4c1e9a532d8f4e6b7a10"));        // no dashes
  EXPECT_FALSE(is_uuid("{6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10}"));  // braces
  EXPECT_FALSE(is_uuid("6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a1"));     // short
  EXPECT_FALSE(is_uuid("6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a100"));   // long
  EXPECT_FALSE(is_uuid("6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a1g"));    // not hex
  EXPECT_FALSE(is_uuid("6f1c2a4e-0b7d4-c1e-9a53-2d8f4e6b7a10"));    // dash misplaced
}

// ---- errors: the file as a whole ----

TEST(DeviceConfigError, InvalidYamlReportsTheLine) {
  auto r = parse_device_config("device:\n  id: [unclosed\n", "test.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Config);
  EXPECT_EQ(r.error().message.rfind("test.yaml: invalid YAML", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("line "), std::string::npos) << r.error().message;
}

TEST(DeviceConfigError, AnEmptyFileIsRejected) {
  expect_error("", "device", "empty");
  expect_error("# only a comment\n", "device", "empty");
}

TEST(DeviceConfigError, TheTopLevelMustBeAMapping) {
  expect_error("- a\n- b\n", "top level", "got a list");
  expect_error("just text\n", "top level", "got 'just text'");
}

TEST(DeviceConfigError, AnUnknownTopLevelKeyIsNamed) {
  expect_error(minimal_with("sevices: []\n"), "sevices", "unknown key");
}

TEST(DeviceConfigError, AKeyGivenTwiceIsNamed) {
  expect_error(minimal_with("network:\n  port: 1\n  port: 2\n"), "network.port", "given twice");
}

TEST(DeviceConfigError, ErrorsGiveTheLineAndColumn) {
  auto r = parse_device_config(with_security("  max_connections: lots\n"), "test.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "test.yaml: security.max_connections: expected an integer 1..65535, got 'lots' (line "
            "5, column 20)");
}

// ---- errors: device ----

TEST(DeviceConfigError, TheDeviceSectionIsRequired) {
  expect_error("security:\n  authentication: none\n", "device", "missing");
}

TEST(DeviceConfigError, TheDeviceSectionMustBeAMapping) {
  expect_error("device: lamp\nsecurity:\n  authentication: none\n", "device",
               "expected a mapping, got 'lamp'");
}

TEST(DeviceConfigError, DeviceIdIsRequired) {
  expect_error("device:\n  type: Lamp\nsecurity: {authentication: none}\n", "device.id", "missing");
}

TEST(DeviceConfigError, DeviceIdMustBeAUuid) {
  expect_error("device:\n  id: lamp-1\n  type: Lamp\nsecurity: {authentication: none}\n",
               "device.id", "expected a UUID");
  expect_error("device:\n  id: [1]\n  type: Lamp\nsecurity: {authentication: none}\n", "device.id",
               "got a list");
}

TEST(DeviceConfigError, DeviceTypeIsRequired) {
  expect_error(std::string("device:\n  id: ") + kLampId + "\nsecurity: {authentication: none}\n",
               "device.type", "missing");
}

TEST(DeviceConfigError, DeviceTypeAndNameMustBe1To64Characters) {
  std::string head = std::string("device:\n  id: ") + kLampId + "\n";
  std::string tail = "security: {authentication: none}\n";
  expect_error(head + "  type: " + std::string(65, 't') + "\n" + tail, "device.type",
               "1..64 characters");
  expect_error(head + "  type: ''\n" + tail, "device.type", "1..64 characters");
  expect_error(head + "  type: Lamp\n  name: ''\n" + tail, "device.name", "1..64 characters");
  expect_error(head + "  type: Lamp\n  name: {a: b}\n" + tail, "device.name", "got a mapping");
}

TEST(DeviceConfigError, AnUnknownDeviceKeyIsNamedWithTheKnownOnes) {
  expect_error(std::string("device:\n  id: ") + kLampId +
                   "\n  type: Lamp\n  nmae: x\nsecurity: {authentication: none}\n",
               "device.nmae", "unknown key (expected one of: id, type, name)");
}

// ---- errors: network ----

TEST(DeviceConfigError, NetworkMustBeAMapping) {
  expect_error(minimal_with("network: [lo]\n"), "network", "expected a mapping");
}

TEST(DeviceConfigError, AnUnknownNetworkKeyIsNamed) {
  expect_error(minimal_with("network:\n  prot: 80\n"), "network.prot", "unknown key");
}

TEST(DeviceConfigError, NetworkPortMustBe0To65535) {
  expect_error(minimal_with("network:\n  port: 65536\n"), "network.port",
               "expected an integer 0..65535, got '65536'");
  expect_error(minimal_with("network:\n  port: -1\n"), "network.port", "got '-1'");
  expect_error(minimal_with("network:\n  port: http\n"), "network.port", "got 'http'");
  expect_error(minimal_with("network:\n  port: 80.5\n"), "network.port", "got '80.5'");
  expect_error(minimal_with("network:\n  port: [80]\n"), "network.port", "got a list");
}

TEST(DeviceConfigError, MulticastPortMustBe1To65535) {
  expect_error(minimal_with("network:\n  multicast_port: 0\n"), "network.multicast_port",
               "1..65535");
}

TEST(DeviceConfigError, MulticastGroupMustBeAMulticastAddress) {
  expect_error(minimal_with("network:\n  multicast_group: 192.168.1.1\n"),
               "network.multicast_group", "expected a multicast address");
  expect_error(minimal_with("network:\n  multicast_group: fe80::1\n"), "network.multicast_group",
               "got 'fe80::1'");
  expect_error(minimal_with("network:\n  multicast_group: lo\n"), "network.multicast_group",
               "got 'lo'");
}

TEST(DeviceConfigError, MaxAgeMustBe2To86400) {
  expect_error(minimal_with("network:\n  max_age: 1\n"), "network.max_age", "2..86400");
  expect_error(minimal_with("network:\n  max_age: 86401\n"), "network.max_age", "2..86400");
}

TEST(DeviceConfigError, KeepaliveMustBe1To3600) {
  expect_error(minimal_with("network:\n  keepalive: 0\n"), "network.keepalive", "1..3600");
  expect_error(minimal_with("network:\n  keepalive: 3601\n"), "network.keepalive", "1..3600");
}

TEST(DeviceConfigError, InterfaceMustBeANameOrAddress) {
  expect_error(minimal_with("network:\n  interface: ''\n"), "network.interface", "expected");
  expect_error(minimal_with("network:\n  interface: 'eth 0'\n"), "network.interface",
               "expected an interface name or address");
}

// ---- errors: security ----

TEST(DeviceConfigError, TheSecuritySectionIsRequired) {
  expect_error(std::string("device:\n  id: ") + kLampId + "\n  type: Lamp\n", "security",
               "missing");
}

TEST(DeviceConfigError, AnUnknownSecurityKeyIsNamed) {
  expect_error(with_security("  max_connection: 3\n"), "security.max_connection", "unknown key");
}

TEST(DeviceConfigError, AuthenticationMustBeRequiredOrNone) {
  expect_error(with_security("  authentication: optional\n"), "security.authentication",
               "expected 'required' or 'none', got 'optional'");
  expect_error(with_security("  authentication: true\n"), "security.authentication", "got 'true'");
}

TEST(DeviceConfigError, MaxConnectionsMustBe1To65535) {
  expect_error(with_security("  max_connections: lots\n"), "security.max_connections",
               "expected an integer 1..65535, got 'lots'");
  expect_error(with_security("  max_connections: 0\n"), "security.max_connections", "got '0'");
  expect_error(with_security("  max_connections: 65536\n"), "security.max_connections",
               "got '65536'");
}

TEST(DeviceConfigError, AccountsMustBeAList) {
  expect_error(with_security("  accounts: {user: alice}\n"), "security.accounts",
               "expected a list, got a mapping");
}

TEST(DeviceConfigError, AnAccountMustBeAMapping) {
  expect_error(with_security("  accounts:\n    - alice\n"), "security.accounts[0]",
               "expected a mapping");
}

TEST(DeviceConfigError, AnAccountNeedsAUser) {
  expect_error(with_security("  accounts:\n    - password: p\n"), "security.accounts[0].user",
               "missing");
}

TEST(DeviceConfigError, AUserNameMustBe1To32Characters) {
  expect_error(
      with_security("  accounts:\n    - {user: abcdefghijklmnopqrstuvwxyz0123456, password: p}\n"),
      "security.accounts[0].user", "1..32 characters");
  expect_error(with_security("  accounts:\n    - {user: '', password: p}\n"),
               "security.accounts[0].user", "1..32 characters");
}

TEST(DeviceConfigError, AnAccountNeedsANonEmptyPassword) {
  expect_error(with_security("  accounts:\n    - {user: alice}\n"), "security.accounts[0].password",
               "missing");
  expect_error(with_security("  accounts:\n    - {user: alice, password: ''}\n"),
               "security.accounts[0].password", "empty");
  expect_error(with_security("  accounts:\n    - {user: alice, password: }\n"),
               "security.accounts[0].password", "got nothing");
}

TEST(DeviceConfigError, AnUnknownRoleIsNamed) {
  expect_error(with_security("  accounts:\n    - {user: alice, password: p, role: root}\n"),
               "security.accounts[0].role", "expected 'user' or 'admin', got 'root'");
}

TEST(DeviceConfigError, AMisspelledAccountKeyIsNamed) {
  expect_error(with_security("  accounts:\n    - {user: alice, pasword: p}\n"),
               "security.accounts[0].pasword", "unknown key");
}

TEST(DeviceConfigError, DuplicateUserNamesAreRejected) {
  expect_error(with_security(
                   "  accounts:\n    - {user: alice, password: a}\n    - {user: bob, password: b}\n"
                   "    - {user: alice, password: c}\n"),
               "security.accounts[2].user",
               "duplicate user 'alice' (also in security.accounts[0])");
}

TEST(DeviceConfigError, AtMost256AccountsAreAccepted) {
  std::string accounts = "  accounts:\n";
  for (int i = 0; i < 257; ++i)
    accounts += "    - {user: u" + std::to_string(i) + ", password: p}\n";
  expect_error(with_security(accounts), "security.accounts", "at most 256 entries, got 257");
}

TEST(DeviceConfigError, PasswordsNeverAppearInErrors) {
  auto r = parse_device_config(
      with_security("  accounts:\n    - {user: alice, password: Sup3rS3cret, role: root}\n"
                    "    - {user: bob, password: [Sup3rS3cret]}\n"),
      "test.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("Sup3rS3cret"), std::string::npos) << r.error().message;
  auto r2 = parse_device_config(
      with_security("  accounts:\n    - {user: bob, password: [Sup3rS3cret]}\n"), "t.yaml");
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("security.accounts[0].password"), std::string::npos)
      << r2.error().message;
  EXPECT_EQ(r2.error().message.find("Sup3rS3cret"), std::string::npos) << r2.error().message;
}

// ---- errors: credentials ----

TEST(DeviceConfigError, CredentialsMustBeAMappingWithKnownKeys) {
  expect_error(minimal_with("credentials: [a]\n"), "credentials", "expected a mapping");
  expect_error(minimal_with("credentials:\n  defaults: {user: u, password: p}\n"),
               "credentials.defaults", "unknown key");
}

TEST(DeviceConfigError, TheDefaultCredentialNeedsUserAndPassword) {
  expect_error(minimal_with("credentials:\n  default: {user: u}\n"), "credentials.default.password",
               "missing");
  expect_error(minimal_with("credentials:\n  default: {password: p}\n"), "credentials.default.user",
               "missing");
  expect_error(minimal_with("credentials:\n  default: {usr: u, password: p}\n"),
               "credentials.default.usr", "unknown key");
  expect_error(minimal_with("credentials:\n  default: {user: u, password: ''}\n"),
               "credentials.default.password", "empty");
}

TEST(DeviceConfigError, CredentialDevicesAreKeyedByUuid) {
  expect_error(minimal_with("credentials:\n  devices:\n    lamp: {user: u, password: p}\n"),
               "credentials.devices.lamp", "expected a device id (UUID)");
  expect_error(minimal_with("credentials:\n  devices: [a]\n"), "credentials.devices",
               "expected a mapping");
}

TEST(DeviceConfigError, ACredentialDeviceGivenTwiceIsRejectedWhateverItsCase) {
  expect_error(minimal_with(std::string("credentials:\n  devices:\n    ") + kOtherId +
                            ": {user: u, password: p}\n" +
                            "    3B9E5D21-7C4A-4F8E-B2D6-1A0C9E7F5B32: {user: v, password: q}\n"),
               "credentials.devices.3B9E5D21", "given twice");
}

TEST(DeviceConfigError, ADeviceCredentialNeedsAValidUser) {
  expect_error(minimal_with(std::string("credentials:\n  devices:\n    ") + kOtherId +
                            ": {user: '', password: p}\n"),
               std::string("credentials.devices.") + kOtherId + ".user", "1..32 characters");
}

// ---- errors: services ----

TEST(DeviceConfigError, ServicesMustBeAListOfMappings) {
  expect_error(minimal_with("services: {id: lamp}\n"), "services", "expected a list");
  expect_error(minimal_with("services:\n  - lamp\n"), "services[0]", "expected a mapping");
}

TEST(DeviceConfigError, AServiceNeedsAnIdAndAType) {
  expect_error(minimal_with("services:\n  - {type: SwitchPower}\n"), "services[0].id", "missing");
  expect_error(minimal_with("services:\n  - {id: lamp}\n"), "services[0].type", "missing");
  expect_error(minimal_with("services:\n  - {id: '', type: SwitchPower}\n"), "services[0].id",
               "1..64 characters");
}

TEST(DeviceConfigError, AnUnknownServiceTypeIsNamedWithTheKnownOnes) {
  expect_error(
      minimal_with("services:\n  - {id: lamp, type: SwitchPower}\n  - {id: x, type: Swtich}\n"),
      "services[1].type",
      "unknown service type 'Swtich' (known: SwitchPower, Dimming, TemperatureSensor)");
}

TEST(DeviceConfigError, DuplicateServiceIdsAreRejected) {
  expect_error(
      minimal_with("services:\n  - {id: lamp, type: SwitchPower}\n  - {id: lamp, type: Dimming}\n"),
      "services[1].id", "duplicate service id 'lamp' (also in services[0])");
}

TEST(DeviceConfigError, AMisspelledServiceKeyIsNamed) {
  expect_error(minimal_with("services:\n  - {id: lamp, kind: SwitchPower}\n"), "services[0].kind",
               "unknown key");
}

// ---- loading files ----

class TempFile {
 public:
  explicit TempFile(const std::string& content)
      : path_(std::filesystem::path(::testing::TempDir()) /
              ("device_config_test_" + std::to_string(::getpid()) + ".yaml")) {
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(LoadDeviceConfig, ReadsAFileAndNamesItInErrors) {
  TempFile good(kMinimal);
  auto r = load_device_config(good.path());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->device_id, kLampId);
  TempFile bad(with_security("  max_connections: lots\n"));
  auto r2 = load_device_config(bad.path());
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message.rfind(bad.path() + ": security.max_connections", 0), 0u)
      << r2.error().message;
}

TEST(LoadDeviceConfig, AMissingFileNamesThePathAndTheReason) {
  auto r = load_device_config("/nonexistent/device.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Config);
  EXPECT_NE(r.error().message.find("/nonexistent/device.yaml"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos)
      << r.error().message;
}

TEST(LoadDeviceConfig, ADirectoryIsNotAConfigFile) {
  auto r = load_device_config(::testing::TempDir());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Config);
  EXPECT_NE(r.error().message.find("Is a directory"), std::string::npos) << r.error().message;
}

TEST(LoadDeviceConfig, TheExampleConfigsAreValid) {
  const std::string dir = std::string(HOMEP2P_SOURCE_DIR) + "/examples/";
  auto lamp = load_device_config(dir + "device-lamp.yaml");
  ASSERT_TRUE(lamp) << lamp.error().message;
  EXPECT_TRUE(lamp->auth_required);
  EXPECT_EQ(lamp->services.size(), 2u);
  auto thermometer = load_device_config(dir + "device-thermometer.yaml");
  ASSERT_TRUE(thermometer) << thermometer.error().message;
  EXPECT_EQ(thermometer->services.at(0).type, "TemperatureSensor");
  // The thermometer has its own credential for the lamp.
  ASSERT_TRUE(thermometer->credential_for(lamp->device_id).has_value());
  EXPECT_EQ(thermometer->credential_for(lamp->device_id)->user, "admin");
  auto open = load_device_config(dir + "device-open.yaml");
  ASSERT_TRUE(open) << open.error().message;
  EXPECT_FALSE(open->auth_required);
  EXPECT_TRUE(open->accounts.empty());
}

}  // namespace
}  // namespace homep2p

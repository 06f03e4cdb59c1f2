// The bridge's state file: round trip, atomic replacement (no temporary files left, mode 0600),
// errors as values for corrupt files and unwritable places, registry snapshot/restore.
#include "runtime/state_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace peer2mqtt {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLamp = "d0e5e000-0000-4000-8000-000000000001";
constexpr const char* kPlug = "d0e5e000-0000-4000-8000-000000000002";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "state_store_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::set<std::string> entries() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.insert(e.path().filename().string());
    return out;
  }

 private:
  std::string path_;
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

PersistedState sample() {
  PersistedState state;
  state.devices[kLamp] = PersistedDevice{"Living room lamp", true, 1795000000, "Light"};
  state.devices[kPlug] = PersistedDevice{"Plug \"kitchen\" é", false, 0, ""};
  return state;
}

void expect_equal(const PersistedState& a, const PersistedState& b) {
  ASSERT_EQ(a.devices.size(), b.devices.size());
  for (const auto& [id, device] : a.devices) {
    auto it = b.devices.find(id);
    ASSERT_NE(it, b.devices.end()) << id;
    EXPECT_EQ(it->second.friendly_name, device.friendly_name);
    EXPECT_EQ(it->second.wanted, device.wanted);
    EXPECT_EQ(it->second.last_seen, device.last_seen);
    EXPECT_EQ(it->second.device_type, device.device_type);
  }
}

TEST(StateStore, SavedStateLoadsBackUnchanged) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.file("state.json");
  ASSERT_TRUE(save_state(path, sample()).ok());
  auto loaded = load_state(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_equal(sample(), *loaded);
}

TEST(StateStore, FileFormatIsVersionedJsonByDeviceId) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  ASSERT_TRUE(save_state(path, sample()).ok());
  std::string text = read(path);
  EXPECT_EQ(text.rfind("{\"version\":1,\"devices\":{", 0), 0u) << text;
  EXPECT_NE(text.find(std::string("\"") + kLamp +
                      "\":{\"friendly_name\":\"Living room lamp\",\"wanted\":true,"
                      "\"last_seen\":1795000000,\"device_type\":\"Light\"}"),
            std::string::npos)
      << text;
}

TEST(StateStore, AMissingFileIsAnEmptyState) {
  TempDir dir;
  auto loaded = load_state(dir.file("never-written.json"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->devices.empty());
}

TEST(StateStore, AtomicWriteLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(save_state(path, sample()).ok());
  EXPECT_EQ(dir.entries(), std::set<std::string>{"state.json"});
}

// Issue 6: a bridge killed -9 between creating its temporary file and the rename leaves the
// temporary file; the next start removes those (and only those) files.
TEST(StateStore, StaleTemporaryFilesOfThisStateFileAreRemovedAndNothingElse) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  ASSERT_TRUE(save_state(path, sample()).ok());
  for (const char* name : {".state.json.tmp-0badf00d", ".state.json.tmp-12345678", ".other.json.tmp-12345678",
                           "state.json.tmp-notours", "notes.txt"}) {
    std::ofstream(dir.file(name)) << "{half a state";
  }
  EXPECT_EQ(remove_stale_temporaries(path), 2U);
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"state.json", ".other.json.tmp-12345678", "state.json.tmp-notours",
                                                   "notes.txt"}));
  ASSERT_TRUE(load_state(path).ok());
  EXPECT_EQ(remove_stale_temporaries(dir.file("missing-folder/state.json")), 0U);
}

TEST(StateStore, FileIsOwnerReadWriteOnlyEvenReplacingAWiderOne) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  write(path, "{}");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  mode_t old_mask = ::umask(0);  // the mode must not depend on the caller's umask
  auto saved = save_state(path, sample());
  ::umask(old_mask);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(StateStore, SavingReplacesTheWholeOldContent) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  ASSERT_TRUE(save_state(path, sample()).ok());
  PersistedState smaller;
  smaller.devices[kPlug] = PersistedDevice{"Plug", true, 5, "Plug"};
  ASSERT_TRUE(save_state(path, smaller).ok());
  auto loaded = load_state(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_equal(smaller, *loaded);
}

TEST(StateStore, UnwritablePlaceIsAnErrorNotACrash) {
  TempDir dir;
  const std::string not_a_folder = dir.file("plain-file");
  write(not_a_folder, "x");
  for (const std::string& path :
       {not_a_folder + "/state.json", dir.file("missing/folder/state.json")}) {
    auto saved = save_state(path, sample());
    ASSERT_FALSE(saved.ok()) << path;
    EXPECT_EQ(saved.error().code, homep2p::Errc::Io);
    EXPECT_NE(saved.error().message.find(path), std::string::npos) << saved.error().message;
  }
}

TEST(StateStore, AnUnwritableFolderIsAnErrorNotACrash) {
  TempDir dir;
  // A parent that is a regular file: not writable for anyone, root included (ENOTDIR).
  write(dir.file("not-a-folder"), "x");
  auto saved = save_state(dir.file("not-a-folder") + "/state.json", sample());
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, homep2p::Errc::Io);
  EXPECT_NE(saved.error().message.find("not-a-folder"), std::string::npos) << saved.error().message;
}

TEST(StateStore, AReadOnlyFolderIsAnErrorForAnOrdinaryUser) {
  if (::geteuid() == 0) {
    // Root writes into read-only folders; the unwritable case is covered above for everyone.
    // Here we only check that a read-only folder does not crash the save as root either.
    TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0500), 0);
    auto saved = save_state(dir.file("state.json"), sample());
    ::chmod(dir.path().c_str(), 0700);
    EXPECT_TRUE(saved.ok());
    return;
  }
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0500), 0);
  auto saved = save_state(dir.file("state.json"), sample());
  ::chmod(dir.path().c_str(), 0700);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, homep2p::Errc::Io);
}

TEST(StateStore, AFailedRenameRemovesTheTemporaryFileAndKeepsTheTarget) {
  TempDir dir;
  // A non-empty folder where the file should be: rename() over it fails after the temp file
  // was written.
  const std::string path = dir.file("state.json");
  fs::create_directory(path);
  write(path + "/keep", "x");
  auto saved = save_state(path, sample());
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().message.find("rename"), std::string::npos) << saved.error().message;
  EXPECT_EQ(dir.entries(), std::set<std::string>{"state.json"});
  EXPECT_TRUE(fs::exists(path + "/keep"));
}

struct CorruptCase {
  std::string name;
  std::string text;
  std::string expected;  // after "<path>: "
};
// ctest names a parameterized test after its printed parameter: the case name, not its bytes.
void PrintTo(const CorruptCase& c, std::ostream* out) { *out << c.name; }

class StateStoreCorrupt : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(StateStoreCorrupt, IsAnErrorNamingFileAndFault) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  write(path, GetParam().text);
  auto loaded = load_state(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message.rfind(path + ": " + GetParam().expected, 0), 0u)
      << loaded.error().message;
}

const std::string kDevices = R"({"version":1,"devices":{"d0e5e000-0000-4000-8000-000000000001":)";

INSTANTIATE_TEST_SUITE_P(
    Cases, StateStoreCorrupt,
    ::testing::Values(
        CorruptCase{"TruncatedJson", "{\"version\":1,\"devi", "not valid JSON"}, CorruptCase{"Empty", "", "not valid JSON"},
        CorruptCase{"ArrayAtTop", "[]", "expected a JSON object at the top level"},
        CorruptCase{"MissingVersion", R"({"devices":{}})", "version: expected 1"},
        CorruptCase{"Version2", R"({"version":2,"devices":{}})", "version: expected 1"},
        CorruptCase{"DevicesNotAnObject", R"({"version":1,"devices":[]})", "devices: expected an object"},
        CorruptCase{"KeyNotAUuid", R"({"version":1,"devices":{"lamp":{"friendly_name":"x"}}})",
                    "devices.lamp: expected a device id (UUID)"},
        CorruptCase{"DeviceNotAnObject", kDevices + "3}}", std::string("devices.") + kLamp + ": expected an object"},
        CorruptCase{"MissingFriendlyName", kDevices + "{}}}",
                    std::string("devices.") + kLamp + ".friendly_name: expected"},
        CorruptCase{"FriendlyNameWithSlash", kDevices + R"({"friendly_name":"a/b"}}})",
                    std::string("devices.") + kLamp + ".friendly_name: expected"},
        CorruptCase{"WantedNotBool", kDevices + R"({"friendly_name":"a","wanted":"yes"}}})",
                    std::string("devices.") + kLamp + ".wanted: expected true or false"},
        CorruptCase{"LastSeenNotInteger", kDevices + R"({"friendly_name":"a","last_seen":"now"}}})",
                    std::string("devices.") + kLamp + ".last_seen: expected an integer"},
        CorruptCase{"DeviceTypeNotString", kDevices + R"({"friendly_name":"a","device_type":7}}})",
                    std::string("devices.") + kLamp + ".device_type: expected a string"}),
    [](const auto& info) { return info.param.name; });

TEST(StateStore, OptionalFieldsMayBeMissing) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  write(path, kDevices + R"({"friendly_name":"Lamp"}}})");
  auto loaded = load_state(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const PersistedDevice& d = loaded->devices.at(kLamp);
  EXPECT_EQ(d.friendly_name, "Lamp");
  EXPECT_FALSE(d.wanted);
  EXPECT_EQ(d.last_seen, 0);
}

// ---- registry <-> state ----

TEST(StateStore, SnapshotTakesNameWantedLastSeenAndTypeOfEveryDevice) {
  DeviceRegistry registry;
  DeviceRecord& lamp = registry.upsert(kLamp, "Lamp");
  lamp.wanted = true;
  lamp.last_seen = 1234;
  lamp.available = true;
  lamp.link = LinkState::Connected;
  homep2p::DeviceAnnounce announce;
  announce.device_id = kLamp;
  announce.device_type = "Light";
  lamp.announce = announce;
  registry.upsert(kPlug, "Plug");

  PersistedState state = snapshot(registry);
  ASSERT_EQ(state.devices.size(), 2u);
  EXPECT_EQ(state.devices.at(kLamp).friendly_name, "Lamp");
  EXPECT_TRUE(state.devices.at(kLamp).wanted);
  EXPECT_EQ(state.devices.at(kLamp).last_seen, 1234);
  EXPECT_EQ(state.devices.at(kLamp).device_type, "Light");
  EXPECT_FALSE(state.devices.at(kPlug).wanted);
  EXPECT_EQ(state.devices.at(kPlug).device_type, "");
}

TEST(StateStore, RestoreCreatesUnavailableRecordsWithPersistedNameAndWanted) {
  PersistedState state;
  state.devices[kLamp] = PersistedDevice{"Renamed lamp", true, 99, "Light"};
  DeviceRegistry registry;
  restore(registry, state);
  const DeviceRecord* lamp = registry.find(kLamp);
  ASSERT_NE(lamp, nullptr);
  EXPECT_EQ(lamp->friendly_name, "Renamed lamp");
  EXPECT_TRUE(lamp->wanted);
  EXPECT_EQ(lamp->last_seen, 99);
  EXPECT_FALSE(lamp->available);
  EXPECT_EQ(lamp->link, LinkState::Disconnected);
  EXPECT_FALSE(lamp->announce.has_value());
}

TEST(StateStore, RestoreThenSnapshotThroughAFileKeepsWhatHomeAssistantWanted) {
  TempDir dir;
  const std::string path = dir.file("state.json");
  DeviceRegistry before;
  before.upsert(kLamp, "Lamp").wanted = true;
  before.upsert(kPlug, "Plug").wanted = false;
  ASSERT_TRUE(save_state(path, snapshot(before)).ok());

  auto loaded = load_state(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  DeviceRegistry after;
  restore(after, *loaded);
  ASSERT_NE(after.find(kLamp), nullptr);
  ASSERT_NE(after.find(kPlug), nullptr);
  EXPECT_TRUE(after.find(kLamp)->wanted);
  EXPECT_FALSE(after.find(kPlug)->wanted);
  EXPECT_EQ(after.find(kPlug)->friendly_name, "Plug");
}

TEST(StateStore, RestoreKeepsNamesUniqueWhenTheFileRepeatsOne) {
  PersistedState state;
  state.devices[kLamp] = PersistedDevice{"Same", false, 0, ""};
  state.devices[kPlug] = PersistedDevice{"Same", false, 0, ""};
  DeviceRegistry registry;
  restore(registry, state);
  ASSERT_NE(registry.find(kLamp), nullptr);
  ASSERT_NE(registry.find(kPlug), nullptr);
  EXPECT_NE(registry.find(kLamp)->friendly_name, registry.find(kPlug)->friendly_name);
}

}  // namespace
}  // namespace peer2mqtt

#include "state_store.hpp"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <system_error>

#include "homep2p/device_config.hpp"

namespace peer2mqtt {

namespace {

using homep2p::Errc;
using homep2p::make_error;

constexpr int kStateVersion = 1;
// The file holds a few hundred bytes per device; a bound keeps a wrong path from being read whole.
constexpr std::size_t kMaxStateFileSize = std::size_t{16} * 1024 * 1024;
constexpr int kTempAttempts = 16;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Closes on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int close() {
    int rc = 0;
    if (fd_ >= 0) rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string render(const PersistedState& state) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(kStateVersion);
  w.Key("devices");
  w.StartObject();
  for (const auto& [id, device] : state.devices) {
    w.Key(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
    w.StartObject();
    w.Key("friendly_name");
    w.String(device.friendly_name.c_str(),
             static_cast<rapidjson::SizeType>(device.friendly_name.size()));
    w.Key("wanted");
    w.Bool(device.wanted);
    w.Key("last_seen");
    w.Int64(device.last_seen);
    w.Key("device_type");
    w.String(device.device_type.c_str(),
             static_cast<rapidjson::SizeType>(device.device_type.size()));
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  std::string out(buffer.GetString(), buffer.GetSize());
  out += '\n';
  return out;
}

homep2p::Result<PersistedState> parse(const std::string& text, const std::string& path) {
  auto invalid = [&](const std::string& what) {
    return make_error(Errc::InvalidMessage, path + ": " + what);
  };
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) {
    return invalid(std::string("not valid JSON: ") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " (at byte " +
                   std::to_string(doc.GetErrorOffset()) + ")");
  }
  if (!doc.IsObject()) return invalid("expected a JSON object at the top level");
  auto version = doc.FindMember("version");
  if (version == doc.MemberEnd() || !version->value.IsInt() ||
      version->value.GetInt() != kStateVersion)
    return invalid("version: expected 1");
  auto devices = doc.FindMember("devices");
  if (devices == doc.MemberEnd() || !devices->value.IsObject())
    return invalid("devices: expected an object");
  PersistedState state;
  for (const auto& entry : devices->value.GetObject()) {
    std::string id(entry.name.GetString(), entry.name.GetStringLength());
    std::string where = "devices." + id;
    if (!homep2p::is_uuid(id)) return invalid(where + ": expected a device id (UUID) as the key");
    if (!entry.value.IsObject()) return invalid(where + ": expected an object");
    const auto& v = entry.value;
    PersistedDevice device;
    auto name = v.FindMember("friendly_name");
    if (name == v.MemberEnd() || !name->value.IsString() ||
        !DeviceRegistry::valid_name(
            std::string_view(name->value.GetString(), name->value.GetStringLength())))
      return invalid(where +
                     ".friendly_name: expected a device name (1..64 characters, no '/', '+', '#')");
    device.friendly_name.assign(name->value.GetString(), name->value.GetStringLength());
    if (auto m = v.FindMember("wanted"); m != v.MemberEnd()) {
      if (!m->value.IsBool()) return invalid(where + ".wanted: expected true or false");
      device.wanted = m->value.GetBool();
    }
    if (auto m = v.FindMember("last_seen"); m != v.MemberEnd()) {
      if (!m->value.IsInt64())
        return invalid(where + ".last_seen: expected an integer (unix seconds)");
      device.last_seen = m->value.GetInt64();
    }
    if (auto m = v.FindMember("device_type"); m != v.MemberEnd()) {
      if (!m->value.IsString()) return invalid(where + ".device_type: expected a string");
      device.device_type.assign(m->value.GetString(), m->value.GetStringLength());
    }
    // Written by us in lowercase; a hand-edited file may differ in case only.
    std::string key = id;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!state.devices.emplace(key, std::move(device)).second)
      return invalid(where + ": given twice");
  }
  return state;
}

std::string random_suffix() {
  std::random_device device;
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string out;
  for (int i = 0; i < 8; ++i) out += "0123456789abcdef"[nibble(device)];
  return out;
}

}  // namespace

homep2p::Result<PersistedState> load_state(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    if (errno == ENOENT) return PersistedState{};  // first start
    return make_error(Errc::Io, "cannot read state file '" + path + "': " + errno_text(errno));
  }
  std::string text;
  std::array<char, 4096> buf{};
  while (true) {
    std::size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    text.append(buf.data(), n);
    if (text.size() > kMaxStateFileSize) {
      return make_error(
          Errc::InvalidMessage,
          path + ": larger than " + std::to_string(kMaxStateFileSize) + " bytes, not a state file");
    }
    if (n < buf.size()) {
      if (std::ferror(file.get()))
        return make_error(Errc::Io, "cannot read state file '" + path + "': " + errno_text(errno));
      break;
    }
  }
  return parse(text, path);
}

homep2p::Result<void> save_state(const std::string& path, const PersistedState& state) {
  const std::string text = render(state);
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path folder = target.parent_path();
  if (folder.empty()) folder = ".";
  auto failed = [&](const std::string& step, int err) {
    return make_error(Errc::Io,
                      "cannot save state file '" + path + "': " + step + ": " + errno_text(err));
  };

  // The temporary file is in the same folder, so that rename() replaces the state file in one
  // step (same file system); O_EXCL never reuses someone else's file.
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < kTempAttempts && fd < 0; ++attempt) {
    temp = (folder / ("." + target.filename().string() + ".tmp-" + random_suffix())).string();
    fd = ::open(temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return failed("create '" + temp + "'", errno);
  }
  if (fd < 0) return failed("create a temporary file in '" + folder.string() + "'", EEXIST);
  Fd file(fd);
  auto abandon = [&](const std::string& step, int err) {
    file.close();
    ::unlink(temp.c_str());
    return failed(step, err);
  };
  // The umask may only have removed bits; make it exactly owner read/write.
  if (::fchmod(file.get(), 0600) != 0) return abandon("chmod", errno);
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(file.get(), text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return abandon("write", errno);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(file.get()) != 0) return abandon("fsync", errno);
  if (file.close() != 0) return abandon("close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) return abandon("rename over it", errno);
  // The rename itself is durable only once the folder is synced.
  Fd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return failed("open folder '" + folder.string() + "'", errno);
  if (::fsync(dir.get()) != 0 && errno != EINVAL) return failed("fsync folder", errno);
  return {};
}

std::size_t remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !it->is_regular_file(ec)) continue;
    if (fs::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

PersistedState snapshot(const DeviceRegistry& registry) {
  PersistedState state;
  for (const auto& [id, record] : registry.all()) {
    PersistedDevice device;
    device.friendly_name = record.friendly_name;
    device.wanted = record.wanted;
    device.last_seen = record.last_seen;
    if (record.announce) device.device_type = record.announce->device_type;
    state.devices.emplace(id, std::move(device));
  }
  return state;
}

void restore(DeviceRegistry& registry, const PersistedState& state) {
  for (const auto& [id, persisted] : state.devices) {
    DeviceRecord& record = registry.upsert(id, persisted.friendly_name);
    // The persisted name is the user's (maybe renamed) choice; upsert made it unique already.
    record.wanted = persisted.wanted;
    record.last_seen = persisted.last_seen;
    record.available = false;  // until it announces itself again
  }
}

}  // namespace peer2mqtt

// Fuzz target: a device's configuration file (parse_device_config, YAML through yaml-cpp).
// Besides "no crash": no exception may escape (yaml-cpp throws; the loader must turn every
// throw into an error value), a refused file says where and why (it names its origin), and an
// accepted one holds only what the documented bounds allow.
#include "fuzz_support.hpp"
#include "homep2p/device_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace homep2p;
  // Each account costs a 10000-round PBKDF2; big inputs only slow the fuzzer down.
  if (size > 4096) return 0;
  const auto config = parse_device_config(fuzz::as_text({data, size}), "fuzz.yaml");
  if (!config) {
    FUZZ_CHECK(config.error().code == Errc::Config, "a config error with another code");
    FUZZ_CHECK(config.error().message.find("fuzz.yaml") != std::string::npos, "the error does not name the file");
    return 0;
  }
  FUZZ_CHECK(is_uuid(config->device_id), "accepted a device id that is not a UUID");
  FUZZ_CHECK(!config->device_type.empty(), "accepted an empty device type");
  FUZZ_CHECK(config->max_connections >= 1 && config->max_connections <= 65535, "max_connections out of range");
  FUZZ_CHECK(config->max_age >= 2 && config->max_age <= 86400, "max_age out of range");
  for (const auto& account : config->accounts) {
    FUZZ_CHECK(!account.user.empty() && account.user.size() <= kMaxUserNameLength, "account user name out of bounds");
  }
  return 0;
}

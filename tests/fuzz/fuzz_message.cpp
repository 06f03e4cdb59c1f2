// Fuzz target: the message codec (decode of one JSON message, any type), and the one JSON a
// message carries inside a string: the ConnectionManager's "peers" state variable, which the
// bridge parses from every ServiceEvent of a device. Besides "no crash, no exception": whatever
// decodes must survive encode -> decode unchanged, and encoding it again gives the same bytes
// (the codec is canonical), so no decoded value is one we cannot send.
#include "fuzz_support.hpp"
#include "homep2p/codec.hpp"
#include "homep2p/connection_manager_service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace homep2p;
  const auto peers = parse_connection_manager_peers(fuzz::as_text({data, size}));
  if (peers) {
    for (const auto& p : *peers) FUZZ_CHECK(!p.device_id.empty() || true, "unreachable");
  }
  const auto decoded = decode(fuzz::as_text({data, size}));
  if (!decoded) {
    FUZZ_CHECK(decoded.error().code == Errc::InvalidMessage, "decode failed with a code other than InvalidMessage");
    FUZZ_CHECK(!decoded.error().message.empty(), "decode failed without saying why");
    return 0;
  }
  const std::string encoded = encode(*decoded);
  const auto again = decode(encoded);
  FUZZ_CHECK(again.ok(), "an encoded message does not decode: " + encoded);
  FUZZ_CHECK(*again == *decoded, "encode/decode round trip changed the message: " + encoded);
  FUZZ_CHECK(encode(*again) == encoded, "encoding is not canonical: " + encoded);
  return 0;
}

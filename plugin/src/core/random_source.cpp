#include "homep2p/random_source.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace homep2p {

void OsRandomSource::fill(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int length; callers ask for challenges and nonces (32 bytes), but loop
  // anyway so that a large request can never be silently truncated.
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      // Aborting is deliberate: these bytes become challenges and nonces, and there is no safe
      // fallback. Predictable or repeated values would let an eavesdropper replay a handshake,
      // and the void interface (chosen so that tests can inject a deterministic source) has no
      // way to report the failure. A CSPRNG that fails means the process cannot do security.
      std::abort();
    }
    done += chunk;
  }
}

}  // namespace homep2p

// Fuzz target: discovery (DiscoveryAgent::on_datagram and its timers). The input is a little
// program; each step is one of:
//   datagram: bytes from the input, received from one of a few source addresses/ports;
//   time:     the clock moves on (0..25.5 s) and due deadlines run (answers, re-announce, expiry);
//   search:   we search (so that answers to our own searches are attributed);
//   stop/start.
// Properties checked besides "no crash": every datagram the agent sends decodes, fits
// kMaxDatagramSize, is a discovery message, and is unicast only as an answer to the searcher;
// the cache never exceeds its bound; nothing received is counted twice or not at all.
#include <variant>

#include "fuzz_support.hpp"
#include "homep2p/codec.hpp"
#include "homep2p/discovery_agent.hpp"

namespace {

using namespace homep2p;

DeviceAnnounce own_announce() {
  DeviceAnnounce a;
  a.device_id = "00000000-0000-4000-8000-000000000000";
  a.device_type = "Light";
  a.friendly_name = "Fuzz lamp";
  a.address = "127.0.0.1";
  a.port = 7789;
  a.services = {{"power", "SwitchPower"}, {"connection-manager", "ConnectionManager"}};
  a.max_age = 30;
  a.boot_id = 7;
  return a;
}

void check_output(const DiscoveryOutput& out, const DiscoverySettings& settings, const DiscoveryAgent& agent,
                  const UdpEndpoint* searcher) {
  for (const auto& d : out.datagrams) {
    FUZZ_CHECK(!d.payload.empty() && d.payload.size() <= kMaxDatagramSize, "datagram size");
    const auto m = decode(fuzz::as_text(d.payload));
    FUZZ_CHECK(m.ok(), "the agent sent a datagram that does not decode");
    FUZZ_CHECK(!message_serial(*m).has_value(), "the agent sent a connection message on discovery");
    if (d.unicast_to) {
      // Only search answers are unicast; one sent at once (delay 0) goes to the searcher.
      FUZZ_CHECK(std::holds_alternative<DeviceAnnounce>(*m), "unicast that is not an announce");
      FUZZ_CHECK(std::get<DeviceAnnounce>(*m).search_id.has_value(), "unicast announce without search_id");
      FUZZ_CHECK(searcher == nullptr || *d.unicast_to == *searcher, "answer sent to someone other than the searcher");
    }
  }
  FUZZ_CHECK(agent.cache().size() <= settings.max_devices, "cache above its bound");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in(data, size);
  fuzz::DeterministicRandom random(in.byte());
  DiscoverySettings settings;
  settings.max_devices = 4;  // small bounds, so that the fuzzer reaches them
  settings.max_pending_answers = 3;
  settings.max_open_searches = 2;
  auto created = DiscoveryAgent::create(own_announce(), random, settings);
  FUZZ_CHECK(created.ok(), "own announce refused");
  DiscoveryAgent agent = std::move(*created);
  TimePoint now{};
  const UdpEndpoint sources[] = {{"127.0.0.1", 7788}, {"127.0.0.2", 40000}, {"::1", 1}, {"192.0.2.7", 65535}};
  if (in.byte() & 1) check_output(DiscoveryOutput{{agent.start(now)}, {}, {}}, settings, agent, nullptr);

  std::uint64_t given = 0;
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    switch (op % 8) {
      case 0:
      case 1:
      case 2:
      case 3: {  // a datagram, up to 64 KiB (the agent must refuse the oversized itself)
        const auto bytes = in.chunk(op & 0x80);
        const UdpEndpoint& from = sources[(op >> 4) % 4];
        const auto out = agent.on_datagram(bytes, from.address, from.port, now);
        ++given;
        check_output(out, settings, agent, &from);
        break;
      }
      case 4:
      case 5: {  // time passes; run every deadline that is due
        now += std::chrono::milliseconds(100) * in.byte();
        for (int guard = 0; guard < 64; ++guard) {
          const auto deadline = agent.next_deadline();
          if (!deadline || *deadline > now) break;
          check_output(agent.on_deadline(now), settings, agent, nullptr);
        }
        break;
      }
      case 6: {  // we search (conditions from the input)
        SearchConditions c;
        c.device_type = std::string(fuzz::as_text(in.chunk()));
        c.service_type = (op & 0x10) ? "SwitchPower" : "";
        const auto d = agent.search(c, in.byte(), now);
        FUZZ_CHECK(d.payload.size() <= kMaxDatagramSize, "search datagram too large");
        break;
      }
      case 7:
        if (op & 0x40) {
          (void)agent.stop();
        } else if (!agent.started()) {
          (void)agent.start(now);
        }
        break;
    }
  }
  FUZZ_CHECK(agent.stats().received == given, "datagrams received and counted differ");
  return 0;
}

// Discovery (patent steps B/C), sans-IO: one device's side of the UDP multicast protocol.
// Why a separate module: the runtime (src/net) only moves datagrams and arms one timer; every
// rule of the protocol (what to send when, what a received datagram means) lives here, testable
// without sockets, with made-up timestamps and a deterministic RandomSource.
//
// The agent owns our own DeviceAnnounce and an AnnouncementCache of the others.
//  start(now)        -> our DeviceAnnounce, to the multicast group.
//  on_datagram(...)  -> cache events; DeviceSearch that matches us -> a unicast answer (our
//                       announce with search_id) to the searcher's source address:port after a
//                       random delay uniform in [0, MX] s (as SSDP). Bad datagrams are counted and
//                       ignored, with a reason for the log; nothing received can make it throw.
//  search(...)       -> a DeviceSearch to the multicast group; answers to it also raise
//                       SearchAnswered (in addition to DeviceAppeared/Updated for the cache).
//  next_deadline() / on_deadline(now)
//                    -> the start announce repeated once shortly after (UDP may lose it, and a
//                       device started at the same moment may not have joined the group yet, as
//                       UPnP device architecture 1.1 advises), then re-announce at max_age/2
//                       (+ up to 10 % jitter, so that devices started together do not stay in
//                       step), due search answers, cache expiry.
//  stop()            -> our DeviceByeBye, to the multicast group; the agent then goes quiet
//                       (ignores datagrams, no deadlines) until start() is called again.
// Before start() the agent only listens: it keeps the cache but neither announces nor answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "homep2p/announcement_cache.hpp"
#include "homep2p/messages.hpp"
#include "homep2p/random_source.hpp"
#include "homep2p/result.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

// A UDP peer, as the runtime saw it (address literal + port). Kept as text: the core has no
// socket types.
struct UdpEndpoint {
  std::string address;
  std::uint16_t port = 0;
  bool operator==(const UdpEndpoint&) const = default;
};

// One datagram to send: to the multicast group (unicast_to empty) or to one peer.
struct Datagram {
  Bytes payload;  // the JSON message, <= kMaxDatagramSize
  std::optional<UdpEndpoint> unicast_to;
};

// A device answered one of our searches (it was also fed to the cache as an announce).
struct SearchAnswered {
  std::uint64_t search_id = 0;
  std::string device_id;
};

using DiscoveryEvent = std::variant<DeviceAppeared, DeviceUpdated, DeviceLeft, SearchAnswered>;

struct DiscoveryOutput {
  std::vector<Datagram> datagrams;
  std::vector<DiscoveryEvent> events;
  // Set by on_datagram when the datagram was ignored: why, in words (for a debug log).
  std::optional<std::string> ignored_reason;
};

struct DiscoverySettings {
  std::size_t max_devices = kDefaultMaxDevices;  // cache bound
  std::size_t max_pending_answers = 64;          // search answers waiting for their delay
  std::size_t max_open_searches = 16;            // our searches whose answers we attribute
  Duration search_grace = seconds(2);            // answers accepted up to MX + this
  std::uint32_t startup_repeats = 1;             // extra announces right after start()
  Duration startup_delay = milliseconds(500);    // between them (+ up to half as much jitter)
};

struct DiscoveryStats {
  std::uint64_t received = 0;             // datagrams given to on_datagram
  std::uint64_t ignored_oversized = 0;    // > kMaxDatagramSize
  std::uint64_t ignored_invalid = 0;      // not JSON, or a field the codec rejects
  std::uint64_t ignored_wrong_type = 0;   // a valid message that does not belong on discovery
  std::uint64_t ignored_stopped = 0;      // received after stop()
  std::uint64_t searches_matched = 0;     // searches we scheduled an answer for
  std::uint64_t searches_not_matched = 0;
  std::uint64_t answers_dropped = 0;      // pending-answer queue full, or a duplicate search
  std::uint64_t answers_sent = 0;
  std::uint64_t announces_sent = 0;       // start, periodic and set_announce (not answers)
};

// Whether our device answers a search with these conditions (empty condition = any).
bool matches(const DeviceAnnounce& device, const SearchConditions& conditions);

class DiscoveryAgent {
 public:
  // Fails (Errc::InvalidMessage) if `own` would not be a valid announce on the wire, or would not
  // fit a datagram (also as a search answer, which carries search_id). `random` must outlive
  // the agent.
  static Result<DiscoveryAgent> create(DeviceAnnounce own, RandomSource& random,
                                       DiscoverySettings settings = {});

  // Starts announcing: returns our announce for the group and schedules the next one.
  Datagram start(TimePoint now);
  // Replaces our announce (services, port, name changed). While started, returns the new
  // announce to send now and restarts the re-announce timer. On error nothing changes. The
  // device id cannot change (it is the device's identity): that is an error too.
  Result<std::optional<Datagram>> set_announce(DeviceAnnounce own, TimePoint now);
  // A datagram received on the discovery channel (multicast or unicast), from source:port.
  DiscoveryOutput on_datagram(std::span<const std::uint8_t> bytes,
                              const std::string& source_address, std::uint16_t source_port,
                              TimePoint now);
  // A DeviceSearch for the group, with a fresh search id; mx is clamped to kMaxMx.
  Datagram search(const SearchConditions& conditions, std::uint32_t mx, TimePoint now);
  // When on_deadline() must be called next; nullopt when there is nothing to wait for.
  std::optional<TimePoint> next_deadline() const;
  DiscoveryOutput on_deadline(TimePoint now);
  // Our DeviceByeBye for the group (nullopt if not started); drops pending answers.
  std::optional<Datagram> stop();

  bool started() const { return state_ == State::Running; }
  const DeviceAnnounce& own() const { return own_; }
  const AnnouncementCache& cache() const { return cache_; }
  // Forgets a device (no event): its next announce raises DeviceAppeared again.
  bool forget(std::string_view device_id) { return cache_.forget(device_id); }
  const DiscoveryStats& stats() const { return stats_; }
  const CacheStats& cache_stats() const { return cache_.stats(); }

 private:
  struct PendingAnswer {
    TimePoint due{};
    std::uint64_t search_id = 0;
    UdpEndpoint to;
  };

  DiscoveryAgent(DeviceAnnounce own, RandomSource& random, DiscoverySettings settings);

  Datagram announce_now(TimePoint now);
  void schedule_reannounce(TimePoint now);
  void handle_search(const DeviceSearch& search, UdpEndpoint from, TimePoint now,
                     DiscoveryOutput& out);
  void handle_announce(const DeviceAnnounce& announce, const std::string& source_address,
                       TimePoint now, DiscoveryOutput& out);
  void forget_old_searches(TimePoint now);
  Datagram make_answer(std::uint64_t search_id, UdpEndpoint to) const;
  std::uint64_t random_below(std::uint64_t bound);  // uniform-ish in [0, bound)

  DeviceAnnounce own_;
  RandomSource* random_;
  DiscoverySettings settings_;
  AnnouncementCache cache_;
  DiscoveryStats stats_;
  enum class State { Idle, Running, Stopped };
  State state_ = State::Idle;  // Idle: listens (cache) but neither announces nor answers
  std::optional<TimePoint> next_announce_;
  std::uint32_t startup_left_ = 0;                     // startup repeats still to send
  std::vector<PendingAnswer> pending_;                 // unsorted; small and bounded
  std::map<std::uint64_t, TimePoint> open_searches_;   // our search id -> accept answers until
};

}  // namespace homep2p

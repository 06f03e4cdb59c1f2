// DiscoveryAgent: one device's side of discovery (patent steps B/C: devices announce themselves
// and their services; a device searches and the devices that match answer), driven with made-up
// timestamps and a deterministic RandomSource.
#include "homep2p/discovery_agent.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "homep2p/codec.hpp"
#include "test_support.hpp"

namespace homep2p {
namespace {

using test::kT0;

constexpr const char* kOwnId = "00000000-0000-4000-8000-000000000000";
constexpr const char* kLampId = "11111111-1111-4111-8111-111111111111";
constexpr const char* kTvId = "22222222-2222-4222-8222-222222222222";

// Each draw of 8 bytes is the next value of the list (cycling), as the agent reads them
// (memcpy into a uint64_t), so that a test can pick the exact delay or jitter it wants.
class ValueRandom : public RandomSource {
 public:
  explicit ValueRandom(std::vector<std::uint64_t> values) : values_(std::move(values)) {}
  void set(std::uint64_t value) { values_ = {value}; }
  void fill(std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      const std::uint64_t v = values_[next_++ % values_.size()];
      const std::size_t n = std::min(out.size() - done, sizeof v);
      std::memcpy(out.data() + done, &v, n);
      done += n;
    }
  }

 private:
  std::vector<std::uint64_t> values_;
  std::size_t next_ = 0;
};

DeviceAnnounce make_announce(std::string id, std::string type = "Light",
                             std::vector<ServiceRef> services = {{"light-1", "BinaryLight"}},
                             std::uint32_t max_age = 10, std::uint64_t boot_id = 7) {
  DeviceAnnounce a;
  a.device_id = std::move(id);
  a.device_type = std::move(type);
  a.friendly_name = "Device";
  a.address = "127.0.0.1";
  a.port = 7789;
  a.services = std::move(services);
  a.max_age = max_age;
  a.boot_id = boot_id;
  return a;
}

Bytes wire(const Message& m) {
  const std::string text = encode(m);
  return Bytes(text.begin(), text.end());
}
Bytes wire_text(const std::string& text) { return Bytes(text.begin(), text.end()); }

Message decode_datagram(const Datagram& d) {
  auto decoded = decode(std::string_view(reinterpret_cast<const char*>(d.payload.data()), d.payload.size()));
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message);
  return decoded.ok() ? *decoded : Message{};
}

// Most tests look at one timer at a time: without the startup repeat, the first re-announce is
// at max_age/2. The startup repeat (on by default) has its own tests.
constexpr DiscoverySettings kNoStartupRepeat{.startup_repeats = 0};

DiscoveryAgent make_agent(RandomSource& random, DeviceAnnounce own = make_announce(kOwnId),
                          DiscoverySettings settings = kNoStartupRepeat) {
  auto agent = DiscoveryAgent::create(std::move(own), random, settings);
  EXPECT_TRUE(agent.ok()) << (agent.ok() ? "" : agent.error().message);
  return std::move(agent).value();
}

const UdpEndpoint kSearcher{"127.0.0.1", 40000};

DiscoveryOutput deliver_search(DiscoveryAgent& agent, const DeviceSearch& search, TimePoint now,
                               const UdpEndpoint& from = kSearcher) {
  return agent.on_datagram(wire(search), from.address, from.port, now);
}

// ---- Announcing (patent step B) ----

TEST(DiscoveryAgent, StartAnnouncesOurDeviceToTheGroup) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  EXPECT_FALSE(agent.started());
  Datagram d = agent.start(kT0);
  EXPECT_TRUE(agent.started());
  EXPECT_FALSE(d.unicast_to.has_value());
  EXPECT_LE(d.payload.size(), kMaxDatagramSize);
  EXPECT_EQ(std::get<DeviceAnnounce>(decode_datagram(d)), make_announce(kOwnId));
  EXPECT_EQ(agent.stats().announces_sent, 1u);
}

TEST(DiscoveryAgent, ReannouncesAtHalfMaxAgeWhenJitterIsZero) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);  // max_age 10 s
  (void)agent.start(kT0);
  ASSERT_EQ(agent.next_deadline(), kT0 + seconds(5));
  EXPECT_TRUE(agent.on_deadline(kT0 + seconds(4)).datagrams.empty());
  auto out = agent.on_deadline(kT0 + seconds(5));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_FALSE(out.datagrams[0].unicast_to.has_value());
  EXPECT_TRUE(std::holds_alternative<DeviceAnnounce>(decode_datagram(out.datagrams[0])));
  EXPECT_EQ(agent.next_deadline(), kT0 + seconds(10)) << "the next one is half a max-age later";
  EXPECT_EQ(agent.stats().announces_sent, 2u);
}

TEST(DiscoveryAgent, StartAnnounceIsRepeatedOnceShortlyAfterStartByDefault) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId), DiscoverySettings{});
  (void)agent.start(kT0);
  ASSERT_EQ(agent.next_deadline(), kT0 + milliseconds(500));
  auto out = agent.on_deadline(kT0 + milliseconds(500));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<DeviceAnnounce>(decode_datagram(out.datagrams[0])));
  EXPECT_EQ(agent.next_deadline(), kT0 + milliseconds(5500)) << "then the max_age/2 cycle";
  EXPECT_EQ(agent.stats().announces_sent, 2u);
}

TEST(DiscoveryAgent, StartupRepeatJitterIsAtMostHalfTheStartupDelay) {
  ValueRandom random({250});  // 250 % 251: the largest jitter
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId), DiscoverySettings{});
  (void)agent.start(kT0);
  EXPECT_EQ(agent.next_deadline(), kT0 + milliseconds(750));
}

TEST(DiscoveryAgent, ReannounceJitterStaysWithinATenthOfHalfTheMaxAge) {
  for (std::uint64_t draw : {std::uint64_t{500}, std::uint64_t{12345}, std::numeric_limits<std::uint64_t>::max()}) {
    SCOPED_TRACE(draw);
    ValueRandom random({draw});
    DiscoveryAgent agent = make_agent(random);
    (void)agent.start(kT0);
    auto deadline = agent.next_deadline();
    ASSERT_TRUE(deadline.has_value());
    EXPECT_GE(*deadline, kT0 + seconds(5));
    EXPECT_LE(*deadline, kT0 + milliseconds(5500));
    EXPECT_LT(*deadline, kT0 + seconds(10)) << "always before the others expire us";
  }
  ValueRandom largest({500});  // 500 % 501: the largest jitter
  DiscoveryAgent agent = make_agent(largest);
  (void)agent.start(kT0);
  EXPECT_EQ(agent.next_deadline(), kT0 + milliseconds(5500));
}

TEST(DiscoveryAgent, NoAnnouncesBeforeStart) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  EXPECT_FALSE(agent.next_deadline().has_value());
  EXPECT_TRUE(agent.on_deadline(kT0 + seconds(100)).datagrams.empty());
}

TEST(DiscoveryAgent, CreateRejectsAnAnnounceThatDoesNotFitADatagram) {
  ValueRandom random({0});
  std::vector<ServiceRef> many;
  for (int i = 0; i < 40; ++i) many.push_back({"service-" + std::to_string(i), "SomeRatherLongServiceTypeName"});
  auto agent = DiscoveryAgent::create(make_announce(kOwnId, "Light", many), random);
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.error().code, Errc::InvalidMessage);
}

TEST(DiscoveryAgent, CreateRejectsAnAnnounceTheCodecWouldReject) {
  ValueRandom random({0});
  DeviceAnnounce bad = make_announce(kOwnId);
  bad.port = 0;
  auto agent = DiscoveryAgent::create(bad, random);
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.error().code, Errc::InvalidMessage);
}

TEST(DiscoveryAgent, SetAnnounceWhileStartedAnnouncesAtOnceAndRestartsTheTimer) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  DeviceAnnounce changed = make_announce(kOwnId);
  changed.port = 7800;
  auto result = agent.set_announce(changed, kT0 + seconds(3));
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ(std::get<DeviceAnnounce>(decode_datagram(**result)).port, 7800);
  EXPECT_EQ(agent.own().port, 7800);
  EXPECT_EQ(agent.next_deadline(), kT0 + seconds(8));
}

TEST(DiscoveryAgent, SetAnnounceBeforeStartSendsNothing) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  auto result = agent.set_announce(make_announce(kOwnId, "Lamp"), kT0);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->has_value());
  EXPECT_EQ(agent.own().device_type, "Lamp");
}

TEST(DiscoveryAgent, SetAnnounceRefusesAnotherDeviceIdOrAnInvalidAnnounce) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  auto other = agent.set_announce(make_announce(kLampId), kT0);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Errc::InvalidState);
  DeviceAnnounce bad = make_announce(kOwnId);
  bad.max_age = 0;
  auto invalid = agent.set_announce(bad, kT0);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(agent.own(), make_announce(kOwnId)) << "nothing changes on error";
}

// ---- Others' announces and bye-byes ----

TEST(DiscoveryAgent, AnnounceFromAnotherDeviceRaisesAppearedThenUpdated) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  auto out = agent.on_datagram(wire(make_announce(kLampId)), "127.0.0.2", 7788, kT0);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(std::get<DeviceAppeared>(out.events[0]).device.device_id, kLampId);
  EXPECT_FALSE(out.ignored_reason.has_value());

  EXPECT_TRUE(agent.on_datagram(wire(make_announce(kLampId)), "127.0.0.2", 7788, kT0 + seconds(1)).events.empty());

  DeviceAnnounce renamed = make_announce(kLampId);
  renamed.friendly_name = "Renamed";
  out = agent.on_datagram(wire(renamed), "127.0.0.2", 7788, kT0 + seconds(2));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(std::get<DeviceUpdated>(out.events[0]).device.friendly_name, "Renamed");
  EXPECT_NE(agent.cache().find(kLampId), nullptr);
}

TEST(DiscoveryAgent, OurOwnAnnounceLoopedBackIsIgnored) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  Datagram ours = agent.start(kT0);
  auto out = agent.on_datagram(ours.payload, "127.0.0.1", 7788, kT0);
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(agent.cache().size(), 0u);
}

TEST(DiscoveryAgent, ByeByeRaisesLeft) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  (void)agent.on_datagram(wire(make_announce(kLampId)), "127.0.0.2", 7788, kT0);
  auto stale = agent.on_datagram(wire(DeviceByeBye{kLampId, 6}), "127.0.0.2", 7788, kT0 + seconds(1));
  EXPECT_TRUE(stale.events.empty()) << "bye-bye of another boot";
  EXPECT_EQ(agent.cache_stats().stale_byebyes, 1u);
  auto out = agent.on_datagram(wire(DeviceByeBye{kLampId, 7}), "127.0.0.2", 7788, kT0 + seconds(1));
  ASSERT_EQ(out.events.size(), 1u);
  const auto& left = std::get<DeviceLeft>(out.events[0]);
  EXPECT_EQ(left.device.device_id, kLampId);
  EXPECT_EQ(left.cause, LeaveCause::ByeBye);
}

TEST(DiscoveryAgent, DeviceWhoseMaxAgePassesLeavesAtTheDeadline) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 100));
  (void)agent.start(kT0);  // our own re-announce at +50 s
  (void)agent.on_datagram(wire(make_announce(kLampId, "Light", {}, 3)), "127.0.0.2", 7788, kT0);
  ASSERT_EQ(agent.next_deadline(), kT0 + seconds(3));
  EXPECT_TRUE(agent.on_deadline(kT0 + seconds(2)).events.empty());
  auto out = agent.on_deadline(kT0 + seconds(3));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(std::get<DeviceLeft>(out.events[0]).cause, LeaveCause::Expired);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_EQ(agent.next_deadline(), kT0 + seconds(50));
}

TEST(DiscoveryAgent, ListensBeforeStart) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  auto out = agent.on_datagram(wire(make_announce(kLampId)), "127.0.0.2", 7788, kT0);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(agent.next_deadline(), kT0 + seconds(10)) << "the cache expiry";
}

// ---- Searching and answering (patent step C) ----

TEST(DiscoveryAgent, MatchingRules) {
  const DeviceAnnounce lamp =
      make_announce(kLampId, "Light", {{"light-1", "BinaryLight"}, {"dim-1", "Dimming"}});
  struct Case {
    SearchConditions conditions;
    bool expected;
  };
  const Case cases[] = {
      {{}, true},
      {{"Light", "", ""}, true},
      {{"Television", "", ""}, false},
      {{"", "Dimming", ""}, true},  // any of our services
      {{"", "BinaryLight", ""}, true},
      {{"", "MediaRenderer", ""}, false},
      {{"", "", kLampId}, true},
      {{"", "", kTvId}, false},
      {{"Light", "Dimming", kLampId}, true},
      {{"Light", "Dimming", kTvId}, false},  // every condition must hold
      {{"light", "", ""}, false},            // exact, case-sensitive
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.conditions.device_type + "/" + c.conditions.service_type + "/" + c.conditions.device_id);
    EXPECT_EQ(matches(lamp, c.conditions), c.expected);
  }
}

TEST(DiscoveryAgent, MatchingSearchIsAnsweredUnicastAfterTheDrawnDelay) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 100));
  (void)agent.start(kT0);
  random.set(1234);  // 1234 % 3001 ms
  auto out = deliver_search(agent, DeviceSearch{42, {"Light", "", ""}, 3}, kT0);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_EQ(agent.stats().searches_matched, 1u);
  ASSERT_EQ(agent.next_deadline(), kT0 + milliseconds(1234));
  EXPECT_TRUE(agent.on_deadline(kT0 + milliseconds(1233)).datagrams.empty());
  out = agent.on_deadline(kT0 + milliseconds(1234));
  ASSERT_EQ(out.datagrams.size(), 1u);
  ASSERT_TRUE(out.datagrams[0].unicast_to.has_value());
  EXPECT_EQ(*out.datagrams[0].unicast_to, kSearcher);
  const auto answer = std::get<DeviceAnnounce>(decode_datagram(out.datagrams[0]));
  EXPECT_EQ(answer.search_id, 42u);
  EXPECT_EQ(answer.device_id, kOwnId);
  EXPECT_EQ(agent.stats().answers_sent, 1u);
  EXPECT_TRUE(agent.on_deadline(kT0 + seconds(4)).datagrams.empty()) << "answered once";
}

TEST(DiscoveryAgent, AnswerDelayBoundsAreZeroAndMx) {
  {
    ValueRandom random({0});
    DiscoveryAgent agent = make_agent(random);
    (void)agent.start(kT0);
    auto out = deliver_search(agent, DeviceSearch{1, {}, 5}, kT0);
    ASSERT_EQ(out.datagrams.size(), 1u) << "a zero delay answers at once";
    EXPECT_EQ(out.datagrams[0].unicast_to, kSearcher);
  }
  {
    ValueRandom random({0});
    DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 100));
    (void)agent.start(kT0);
    random.set(5000);  // 5000 % 5001: the largest delay
    (void)deliver_search(agent, DeviceSearch{1, {}, 5}, kT0);
    EXPECT_EQ(agent.next_deadline(), kT0 + seconds(5));
  }
  {
    ValueRandom random({0});
    DiscoveryAgent agent = make_agent(random);
    (void)agent.start(kT0);
    random.set(std::numeric_limits<std::uint64_t>::max());
    auto out = deliver_search(agent, DeviceSearch{1, {}, 0}, kT0);
    EXPECT_EQ(out.datagrams.size(), 1u) << "MX 0: answer at once whatever the draw";
  }
}

TEST(DiscoveryAgent, AnswerDelaysWithTheOsRandomSourceStayWithinMx) {
  OsRandomSource random;
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 1000),
                                    DiscoverySettings{.max_pending_answers = 1000, .startup_repeats = 0});
  (void)agent.start(kT0);
  TimePoint latest = kT0;
  TimePoint earliest = kT0 + seconds(100);
  for (std::uint64_t id = 1; id <= 300; ++id) {
    auto out = deliver_search(agent, DeviceSearch{id, {}, 2}, kT0);
    if (!out.datagrams.empty()) earliest = kT0;
  }
  // Drain millisecond by millisecond and record when answers come out.
  for (TimePoint t = kT0; t <= kT0 + seconds(3); t += milliseconds(1)) {
    auto next = agent.next_deadline();
    if (!next || *next > t) continue;
    for (const auto& d : agent.on_deadline(t).datagrams) {
      if (!d.unicast_to) continue;
      latest = std::max(latest, t);
      earliest = std::min(earliest, t);
    }
  }
  EXPECT_EQ(agent.stats().answers_sent, 300u);
  EXPECT_LE(latest, kT0 + seconds(2));
  EXPECT_GE(earliest, kT0);
  EXPECT_GT(latest - earliest, milliseconds(1000)) << "delays spread over [0, MX]";
}

TEST(DiscoveryAgent, NonMatchingSearchIsNotAnswered) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  auto out = deliver_search(agent, DeviceSearch{9, {"Television", "", ""}, 0}, kT0);
  EXPECT_TRUE(out.datagrams.empty());
  out = deliver_search(agent, DeviceSearch{10, {"", "", kLampId}, 0}, kT0);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_EQ(agent.stats().searches_not_matched, 2u);
  EXPECT_EQ(agent.next_deadline(), kT0 + seconds(5)) << "only our re-announce is pending";
}

TEST(DiscoveryAgent, RepeatedSearchFromTheSameSearcherIsAnsweredOnce) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 100));
  (void)agent.start(kT0);
  random.set(700);
  (void)deliver_search(agent, DeviceSearch{5, {}, 1}, kT0);
  auto again = deliver_search(agent, DeviceSearch{5, {}, 1}, kT0 + milliseconds(100));
  EXPECT_EQ(again.ignored_reason, "duplicate DeviceSearch");
  (void)deliver_search(agent, DeviceSearch{5, {}, 1}, kT0, UdpEndpoint{"127.0.0.3", 40000});
  auto out = agent.on_deadline(kT0 + seconds(1));
  EXPECT_EQ(out.datagrams.size(), 2u) << "one per searcher";
  EXPECT_EQ(agent.stats().answers_dropped, 1u);
}

TEST(DiscoveryAgent, PendingAnswersAreBounded) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 100),
                                    DiscoverySettings{.max_pending_answers = 3, .startup_repeats = 0});
  (void)agent.start(kT0);
  random.set(999);
  for (std::uint64_t id = 1; id <= 5; ++id) (void)deliver_search(agent, DeviceSearch{id, {}, 1}, kT0);
  EXPECT_EQ(agent.stats().answers_dropped, 2u);
  EXPECT_EQ(agent.on_deadline(kT0 + seconds(1)).datagrams.size(), 3u);
}

TEST(DiscoveryAgent, SearchBeforeStartIsNotAnswered) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  auto out = deliver_search(agent, DeviceSearch{1, {}, 0}, kT0);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_FALSE(agent.next_deadline().has_value());
}

TEST(DiscoveryAgent, SearchGoesToTheGroupWithAFreshId) {
  ValueRandom random({1, 2});
  DiscoveryAgent agent = make_agent(random);
  Datagram first = agent.search({"", "BinaryLight", ""}, 3, kT0);
  Datagram second = agent.search({}, 500, kT0);
  EXPECT_FALSE(first.unicast_to.has_value());
  const auto s1 = std::get<DeviceSearch>(decode_datagram(first));
  const auto s2 = std::get<DeviceSearch>(decode_datagram(second));
  EXPECT_EQ(s1.conditions.service_type, "BinaryLight");
  EXPECT_EQ(s1.mx, 3u);
  EXPECT_EQ(s2.mx, kMaxMx) << "MX is clamped";
  EXPECT_NE(s1.search_id, s2.search_id);
  EXPECT_LT(s1.search_id, std::uint64_t{1} << 53);
}

TEST(DiscoveryAgent, OwnSearchLoopedBackIsNotAnswered) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  Datagram search = agent.search({}, 0, kT0);
  auto out = agent.on_datagram(search.payload, "127.0.0.1", 50000, kT0);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_EQ(agent.stats().searches_matched, 0u);
}

TEST(DiscoveryAgent, AnswersToOurSearchRaiseSearchAnswered) {
  ValueRandom random({77});
  DiscoveryAgent searcher = make_agent(random);
  ValueRandom lamp_random({0});
  DiscoveryAgent lamp = make_agent(lamp_random, make_announce(kLampId));
  (void)searcher.start(kT0);
  (void)lamp.start(kT0);

  Datagram search = searcher.search({"Light", "", ""}, 1, kT0);
  auto answered = lamp.on_datagram(search.payload, "127.0.0.1", 50000, kT0);
  ASSERT_EQ(answered.datagrams.size(), 1u);
  EXPECT_EQ(answered.datagrams[0].unicast_to, (UdpEndpoint{"127.0.0.1", 50000}));

  auto out = searcher.on_datagram(answered.datagrams[0].payload, "127.0.0.1", 7788, kT0 + milliseconds(10));
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(std::get<DeviceAppeared>(out.events[0]).device.device_id, kLampId);
  const auto& answer = std::get<SearchAnswered>(out.events[1]);
  EXPECT_EQ(answer.device_id, kLampId);
  EXPECT_EQ(answer.search_id, std::get<DeviceSearch>(decode_datagram(search)).search_id);

  // Known already: a second answer only refreshes the cache, but still counts as an answer.
  out = searcher.on_datagram(answered.datagrams[0].payload, "127.0.0.1", 7788, kT0 + milliseconds(20));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<SearchAnswered>(out.events[0]));

  // Long after the search (MX + grace), an answer is only an announce.
  out = searcher.on_datagram(answered.datagrams[0].payload, "127.0.0.1", 7788, kT0 + seconds(10));
  EXPECT_TRUE(out.events.empty());
}

// ---- Stopping ----

TEST(DiscoveryAgent, StopSendsByeByeAndGoesQuiet) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random, make_announce(kOwnId, "Light", {}, 100));
  (void)agent.start(kT0);
  random.set(900);
  (void)deliver_search(agent, DeviceSearch{3, {}, 1}, kT0);
  auto bye = agent.stop();
  ASSERT_TRUE(bye.has_value());
  EXPECT_FALSE(bye->unicast_to.has_value());
  EXPECT_EQ(std::get<DeviceByeBye>(decode_datagram(*bye)), (DeviceByeBye{kOwnId, 7}));
  EXPECT_FALSE(agent.started());
  EXPECT_FALSE(agent.next_deadline().has_value());
  EXPECT_TRUE(agent.on_deadline(kT0 + seconds(1)).datagrams.empty()) << "pending answers dropped";
  auto out = agent.on_datagram(wire(make_announce(kLampId)), "127.0.0.2", 7788, kT0);
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(agent.stats().ignored_stopped, 1u);
  EXPECT_FALSE(agent.stop().has_value()) << "one bye-bye only";
}

TEST(DiscoveryAgent, StopBeforeStartSendsNothing) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  EXPECT_FALSE(agent.stop().has_value());
}

// ---- Bad datagrams: ignored, counted, with a reason; never a crash ----

struct BadDatagram {
  const char* what;
  Bytes bytes;
};

void expect_ignored(DiscoveryAgent& agent, const BadDatagram& bad) {
  SCOPED_TRACE(bad.what);
  auto out = agent.on_datagram(bad.bytes, "127.0.0.9", 7788, kT0);
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.datagrams.empty());
  ASSERT_TRUE(out.ignored_reason.has_value());
  EXPECT_FALSE(out.ignored_reason->empty());
}

TEST(DiscoveryAgent, MalformedDatagramsAreIgnoredAndCounted) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  const Bytes valid = wire(make_announce(kLampId));
  const std::vector<BadDatagram> bad = {
      {"empty", {}},
      {"truncated JSON", Bytes(valid.begin(), valid.begin() + static_cast<long>(valid.size() / 2))},
      {"binary garbage", Bytes{0x00, 0xff, 0x13, 0x37, 0x80, 0x7f}},
      {"JSON array", wire_text("[1,2,3]")},
      {"no type", wire_text(R"({"device_id":"x"})")},
      {"unknown type", wire_text(R"({"type":"DeviceHello","device_id":"x"})")},
      {"search with MX above the limit", wire_text(R"({"type":"DeviceSearch","search_id":1,"mx":121})")},
  };
  for (const auto& b : bad) expect_ignored(agent, b);
  EXPECT_EQ(agent.stats().ignored_invalid, bad.size());
  EXPECT_EQ(agent.stats().received, bad.size());
  EXPECT_EQ(agent.cache().size(), 0u);
}

TEST(DiscoveryAgent, OversizedDatagramIsIgnoredBeforeDecoding) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  // A valid announce padded with whitespace past the limit: it would decode, but must not be.
  std::string text = encode(make_announce(kLampId));
  text.insert(text.size() - 1, std::string(kMaxDatagramSize, ' '));
  expect_ignored(agent, {"oversized", wire_text(text)});
  EXPECT_EQ(agent.stats().ignored_oversized, 1u);
  EXPECT_EQ(agent.stats().ignored_invalid, 0u);
  EXPECT_EQ(agent.cache().size(), 0u);
}

TEST(DiscoveryAgent, ConnectionMessagesOverDiscoveryAreIgnoredAndCounted) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  ConnectRequest request;
  request.serial = 1;
  request.request_serial = 1;
  request.user = "alice";
  request.device_id = kLampId;
  expect_ignored(agent, {"ConnectRequest", wire(request)});
  expect_ignored(agent, {"Ping", wire(Ping{1})});
  expect_ignored(agent, {"Disconnect", wire(Disconnect{1, DisconnectReason::Normal})});
  EXPECT_EQ(agent.stats().ignored_wrong_type, 3u);
  EXPECT_EQ(agent.stats().ignored_invalid, 0u);
}

// Every field of a valid announce, in turn, given a value of the wrong JSON type.
TEST(DiscoveryAgent, AnnounceWithAFieldOfTheWrongTypeIsIgnored) {
  ValueRandom random({0});
  DiscoveryAgent agent = make_agent(random);
  (void)agent.start(kT0);
  const std::string valid = encode(make_announce(kLampId));
  rapidjson::Document original;
  original.Parse(valid.c_str());
  ASSERT_TRUE(original.IsObject());
  std::size_t tried = 0;
  for (auto member = original.MemberBegin(); member != original.MemberEnd(); ++member) {
    const std::string name = member->name.GetString();
    if (name == "type") continue;
    rapidjson::Document doc;
    doc.CopyFrom(original, doc.GetAllocator());
    rapidjson::Value& field = doc[name.c_str()];
    if (field.IsString()) {
      field.SetInt(5);
    } else {
      field.SetString("wrong", doc.GetAllocator());
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
    expect_ignored(agent, {name.c_str(), wire_text(buffer.GetString())});
    ++tried;
  }
  EXPECT_GE(tried, 8u);
  EXPECT_EQ(agent.stats().ignored_invalid, tried);
  EXPECT_EQ(agent.cache().size(), 0u);
}

}  // namespace
}  // namespace homep2p

// Fuzz target: the whole handshake, both roles, driven by fuzzed messages. The first byte picks
// the role under test; the rest is a program of steps.
//
// Target role (a device with accounts user/admin, max 2 connections, real back-off and pending
// bound): several connections may be open at once (the program switches between them). Steps:
// raw bytes; a fuzzed JSON frame; a ConnectRequest(1) for user, admin, an unknown or a fuzzed
// user; the CORRECT ConnectRequest(2) (reply computed with the key, marks the connection
// "proved"); a wrong reply (fuzzed nonce/reply, or a captured correct reply from another
// connection: a replay); time passing; the initiator closing; a new connection; dropping one.
// Properties: a connection is Connected only if it was proved (nobody gets in without the key,
// patent step 6); Connected/ConnectFailed at most once each per connection and never both;
// the table never exceeds its max and counts exactly the established connections; the pending
// (half-open) count never exceeds its bound and is 0 once every connection is gone; every frame
// a target writes during the handshake decodes.
//
// Initiator role (it holds the user's key, the target may or may not have announced
// authentication): steps feed it a challenge, the CORRECT SUCCESS(2) (proof computed with the
// key from the initiator's own nonce, marks "proved"), a SUCCESS(2) with a fuzzed proof, a
// SUCCESS(1) without challenge, OVERLOAD/ACCESSDENIED, fuzzed frames, time, close.
// Properties: Connected only with the correct proof, or with a challenge-less SUCCESS from a
// target that did not announce authentication (never from one that did: a downgrade).
#include <algorithm>
#include <memory>

#include "handshake_driver.hpp"

namespace {

using namespace homep2p;
using fuzz::FuzzInput;

struct Tracked {
  std::unique_ptr<ConnectionTarget> target;
  std::optional<Bytes32> challenge;  // the last challenge it sent
  bool proved = false;               // we sent it the correct reply for that challenge
  int connected = 0;
  int failed = 0;
  std::optional<ConnectRequest> correct_reply;  // for replays on other connections
};

void record(Tracked& t, const ConnectionEvents& events) {
  for (const auto& e : events) {
    if (std::holds_alternative<Connected>(e)) {
      FUZZ_CHECK(t.proved, "a target established a connection without the correct reply");
      ++t.connected;
    }
    if (std::holds_alternative<ConnectFailed>(e)) ++t.failed;
  }
  FUZZ_CHECK(t.connected + t.failed <= 1, "a handshake ended more than once");
  if (!t.target->authenticated()) {  // once keys are installed, everything it writes is sealed
    for (const auto& m : fuzz::unsealed_messages(t.target->take_output())) {
      if (const auto* r = std::get_if<ConnectResponse>(&m); r && r->challenge) {
        t.challenge = r->challenge;
        t.proved = false;
      }
    }
  } else {
    (void)t.target->take_output();  // sealed from now on
  }
}

void target_role(FuzzInput& in) {
  ConnectionSettings settings;
  settings.max_pending_handshakes = 3;  // small, so that the fuzzer reaches the bound
  fuzz::TargetDevice device(2, settings);
  TimePoint now{};
  std::vector<Tracked> connections;
  std::vector<ConnectRequest> captured;  // correct replies seen (to replay elsewhere)
  const char* addresses[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1"};
  auto open = [&](std::uint8_t how) {
    if (connections.size() >= 6) return;
    Tracked t;
    t.target = std::make_unique<ConnectionTarget>(device.admission, device.random, addresses[how % 3], now);
    connections.push_back(std::move(t));
  };
  open(0);
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    if (connections.empty()) open(op);
    Tracked& t = connections[(op >> 4) % connections.size()];
    ConnectionTarget& target = *t.target;
    switch (op % 10) {
      case 0:  // raw bytes
        record(t, target.receive(in.chunk(), now));
        break;
      case 1: {  // a fuzzed JSON frame
        const auto text = in.chunk(op & 0x80);
        if (!text.empty()) record(t, target.receive(fuzz::frame_of(fuzz::as_text(text)), now));
        break;
      }
      case 2: {  // ConnectRequest(1)
        ConnectRequest r;
        r.serial = (op & 0x80) ? 1 + in.byte() % 3 : 1;
        r.request_serial = 1;
        const std::uint8_t who = in.byte();
        r.user = who % 4 == 0 ? "user" : who % 4 == 1 ? "admin" : who % 4 == 2 ? "mallory" : std::string(1 + who % 32, 'u');
        r.device_id = fuzz::kInitiatorId;
        record(t, target.receive(fuzz::frame_of(r), now));
        break;
      }
      case 3: {  // the correct reply to the last challenge, with the key of user or admin
        if (!t.challenge) break;
        const bool admin = op & 0x80;
        ConnectRequest r;
        r.serial = 2;
        r.request_serial = 2;
        Bytes32 nonce{};
        nonce.fill(in.byte());
        r.nonce = nonce;
        Transcript tr{*t.challenge, nonce, fuzz::kTargetId, fuzz::kInitiatorId, admin ? "admin" : "user"};
        r.reply = compute_reply(admin ? fuzz::admin_key() : fuzz::user_key(), tr);
        // Correct only if the challenge was issued to that user; the oracle must know which.
        t.proved = !target.established() && target.user() == (admin ? "admin" : "user");
        captured.push_back(r);
        record(t, target.receive(fuzz::frame_of(r), now));
        break;
      }
      case 4: {  // a wrong reply: fuzzed, or replayed from another connection's handshake
        ConnectRequest r;
        if ((op & 0x80) && !captured.empty()) {
          r = captured[in.byte() % captured.size()];
        } else {
          r.serial = 2;
          r.request_serial = 2;
          Bytes32 nonce{}, reply{};
          const auto bytes = in.take(64);
          std::copy_n(bytes.begin(), std::min<std::size_t>(32, bytes.size()), nonce.begin());
          if (bytes.size() > 32) std::copy(bytes.begin() + 32, bytes.end(), reply.begin());
          r.nonce = nonce;
          r.reply = reply;
        }
        t.proved = false;
        record(t, target.receive(fuzz::frame_of(r), now));
        break;
      }
      case 5:
      case 6:  // time passes
        now += std::chrono::milliseconds(100) * in.byte();
        for (auto& c : connections) record(c, c.target->on_deadline(now));
        break;
      case 7:  // the initiator closes the TCP connection
        record(t, target.transport_closed(now));
        break;
      case 8:
        open(in.byte());
        break;
      default:  // the runtime drops a connection object (closed or not)
        connections.erase(connections.begin() + static_cast<std::ptrdiff_t>((op >> 4) % connections.size()));
        break;
    }
    std::size_t established = 0;
    for (const auto& c : connections) established += c.target->established() ? 1 : 0;
    FUZZ_CHECK(device.table.count() == established, "the table does not count exactly the established connections");
    FUZZ_CHECK(device.table.count() <= device.table.max(), "table above its max");
    FUZZ_CHECK(device.admission.pending() <= settings.max_pending_handshakes, "pending above its bound");
  }
  connections.clear();
  FUZZ_CHECK(device.admission.pending() == 0, "half-open handshakes leaked");
  FUZZ_CHECK(device.table.count() == 0, "connection slots leaked");
}

void initiator_role(FuzzInput& in) {
  const std::uint8_t flags = in.byte();
  ConnectionTable table(1 + flags % 2);
  if (flags & 0x10) (void)table.try_add("someone", Role::Target, TimePoint{});  // maybe full already
  fuzz::DeterministicRandom random(0x20);
  InitiatorParams params;
  params.own_id = fuzz::kInitiatorId;
  params.target_id = (flags & 0x20) ? "" : fuzz::kTargetId;  // by address: learns the id
  params.user = "user";
  if (!(flags & 0x40)) params.key = fuzz::user_key();
  params.require_authentication = flags & 0x80;
  const std::size_t base_count = table.count();
  TimePoint now{};
  ConnectionInitiator initiator(params, table, random, {});
  int connected = 0, failed = 0;
  bool proved = false, challenged = false, downgrade_offered = false;
  std::optional<Bytes32> nonce;
  Bytes32 challenge{};
  std::uint64_t serial = 1;
  auto note = [&](const ConnectionEvents& events) {
    for (const auto& e : events) {
      if (std::holds_alternative<Connected>(e)) {
        FUZZ_CHECK(proved || (downgrade_offered && !params.require_authentication),
                   "the initiator accepted a target that did not prove the key");
        ++connected;
      }
      if (std::holds_alternative<ConnectFailed>(e)) ++failed;
    }
    FUZZ_CHECK(connected + failed <= 1, "a handshake ended more than once");
    if (!initiator.authenticated()) {
      for (const auto& m : fuzz::unsealed_messages(initiator.take_output())) {
        if (const auto* r = std::get_if<ConnectRequest>(&m); r && r->nonce) nonce = r->nonce;
      }
    } else {
      (void)initiator.take_output();
    }
    FUZZ_CHECK(table.count() == base_count + (initiator.established() ? 1 : 0), "table count disagrees");
  };
  note(initiator.start(now));
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    ConnectResponse r;
    r.serial = (op & 0x80) ? in.byte() : serial;
    r.device_id = (op & 0x40) ? "8c000000-0000-4000-8000-00000000008c" : fuzz::kTargetId;
    switch (op % 9) {
      case 0: {  // AUTHENTICATE with a challenge
        r.response_serial = 1;
        r.result = ConnectResult::Authenticate;
        r.algorithm = "ShareKey";
        challenge.fill(in.byte());
        r.challenge = challenge;
        challenged = true;
        ++serial;
        note(initiator.receive(fuzz::frame_of(r), now));
        break;
      }
      case 1: {  // the correct SUCCESS(2): proof over the initiator's own nonce
        if (!challenged || !nonce) break;
        r.response_serial = 2;
        r.result = ConnectResult::Success;
        Transcript tr{challenge, *nonce, fuzz::kTargetId, fuzz::kInitiatorId, "user"};
        r.proof = compute_proof(fuzz::user_key(), tr);
        proved = r.device_id == fuzz::kTargetId;
        ++serial;
        note(initiator.receive(fuzz::frame_of(r), now));
        break;
      }
      case 2: {  // SUCCESS(2) with a fuzzed proof (or the reply reflected as a proof)
        r.response_serial = 2;
        r.result = ConnectResult::Success;
        Bytes32 proof{};
        if ((op & 0x20) && nonce) {
          Transcript tr{challenge, *nonce, fuzz::kTargetId, fuzz::kInitiatorId, "user"};
          proof = compute_reply(fuzz::user_key(), tr);  // reflection: the initiator's own reply
        } else {
          const auto bytes = in.take(32);
          std::copy(bytes.begin(), bytes.end(), proof.begin());
        }
        r.proof = proof;
        proved = false;
        ++serial;
        note(initiator.receive(fuzz::frame_of(r), now));
        break;
      }
      case 3:  // SUCCESS(1), no challenge: fine only if the target announced no authentication
        r.response_serial = 1;
        r.result = ConnectResult::Success;
        downgrade_offered = !challenged;
        ++serial;
        note(initiator.receive(fuzz::frame_of(r), now));
        break;
      case 4:  // OVERLOAD or ACCESSDENIED
        r.response_serial = 1 + (op & 1);
        r.result = (op & 0x20) ? ConnectResult::Overload : ConnectResult::AccessDenied;
        ++serial;
        note(initiator.receive(fuzz::frame_of(r), now));
        break;
      case 5: {  // a fuzzed JSON frame
        const auto text = in.chunk(op & 0x20);
        if (!text.empty()) note(initiator.receive(fuzz::frame_of(fuzz::as_text(text)), now));
        break;
      }
      case 6:  // raw bytes
        note(initiator.receive(in.chunk(), now));
        break;
      case 7:  // time passes
        now += std::chrono::milliseconds(100) * in.byte();
        note(initiator.on_deadline(now));
        break;
      default:
        note(initiator.transport_closed(now));
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  if (in.byte() & 1) {
    initiator_role(in);
  } else {
    target_role(in);
  }
  return 0;
}

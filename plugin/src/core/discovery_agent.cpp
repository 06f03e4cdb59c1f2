#include "homep2p/discovery_agent.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <string_view>

#include "homep2p/codec.hpp"

namespace homep2p {

namespace {

// Search ids stay below 2^53 so that implementations whose JSON numbers are doubles (JavaScript)
// read them exactly; 53 random bits are plenty to tell concurrent searches apart.
constexpr std::uint64_t kMaxSearchId = (std::uint64_t{1} << 53) - 1;

Bytes to_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

Datagram to_group(const Message& message) { return Datagram{to_bytes(encode(message)), std::nullopt}; }

// Our announce must decode on the other side and fit one datagram, also in its longest form
// (a search answer carries search_id).
Result<void> validate_own(const DeviceAnnounce& own) {
  DeviceAnnounce probe = own;
  probe.search_id = kMaxSearchId;
  const std::string wire = encode(Message{probe});
  if (wire.size() > kMaxDatagramSize) {
    return make_error(Errc::InvalidMessage,
                      "DeviceAnnounce is " + std::to_string(wire.size()) +
                          " bytes as a search answer, more than a discovery datagram (" +
                          std::to_string(kMaxDatagramSize) + ")");
  }
  auto decoded = decode(wire);
  if (!decoded) {
    return make_error(Errc::InvalidMessage, "own DeviceAnnounce is invalid: " + decoded.error().message);
  }
  if (!std::holds_alternative<DeviceAnnounce>(*decoded)) {
    return make_error(Errc::InvalidMessage, "own DeviceAnnounce does not decode as one");
  }
  return {};
}

DiscoveryEvent to_discovery_event(CacheEvent event) {
  return std::visit([](auto&& e) -> DiscoveryEvent { return std::forward<decltype(e)>(e); }, std::move(event));
}

}  // namespace

bool matches(const DeviceAnnounce& device, const SearchConditions& conditions) {
  if (!conditions.device_id.empty() && conditions.device_id != device.device_id) return false;
  if (!conditions.device_type.empty() && conditions.device_type != device.device_type) return false;
  if (!conditions.service_type.empty()) {
    const bool offered = std::any_of(device.services.begin(), device.services.end(),
                                     [&](const ServiceRef& s) { return s.type == conditions.service_type; });
    if (!offered) return false;
  }
  return true;
}

Result<DiscoveryAgent> DiscoveryAgent::create(DeviceAnnounce own, RandomSource& random,
                                              DiscoverySettings settings) {
  own.search_id.reset();
  if (auto valid = validate_own(own); !valid) return valid.error();
  return DiscoveryAgent(std::move(own), random, settings);
}

DiscoveryAgent::DiscoveryAgent(DeviceAnnounce own, RandomSource& random, DiscoverySettings settings)
    : own_(std::move(own)),
      random_(&random),
      settings_(settings),
      cache_(own_.device_id, settings.max_devices) {}

std::uint64_t DiscoveryAgent::random_below(std::uint64_t bound) {
  if (bound <= 1) return 0;
  std::array<std::uint8_t, 8> raw{};
  random_->fill(raw);
  std::uint64_t value = 0;
  std::memcpy(&value, raw.data(), raw.size());
  // Modulo bias is below bound / 2^64: for delays of at most 120001 ms it is immaterial.
  return value % bound;
}

Datagram DiscoveryAgent::announce_now(TimePoint now) {
  ++stats_.announces_sent;
  schedule_reannounce(now);
  return to_group(Message{own_});
}

void DiscoveryAgent::schedule_reannounce(TimePoint now) {
  if (startup_left_ > 0) {
    --startup_left_;
    const auto delay_ms = static_cast<std::uint64_t>(std::max<milliseconds::rep>(
        0, std::chrono::duration_cast<milliseconds>(settings_.startup_delay).count()));
    next_announce_ = now + milliseconds(static_cast<milliseconds::rep>(delay_ms + random_below(delay_ms / 2 + 1)));
    return;
  }
  // Half the max-age leaves room for one lost announce before the others expire us.
  const std::uint64_t half_ms = std::uint64_t{own_.max_age} * 1000 / 2;
  const std::uint64_t jitter_ms = random_below(half_ms / 10 + 1);
  next_announce_ = now + milliseconds(static_cast<milliseconds::rep>(half_ms + jitter_ms));
}

Datagram DiscoveryAgent::start(TimePoint now) {
  state_ = State::Running;
  startup_left_ = settings_.startup_repeats;
  return announce_now(now);
}

Result<std::optional<Datagram>> DiscoveryAgent::set_announce(DeviceAnnounce own, TimePoint now) {
  own.search_id.reset();
  if (own.device_id != own_.device_id) {
    return make_error(Errc::InvalidState, "set_announce cannot change the device id (" +
                                              own_.device_id + " -> " + own.device_id + ")");
  }
  if (auto valid = validate_own(own); !valid) return valid.error();
  own_ = std::move(own);
  if (state_ != State::Running) return std::optional<Datagram>{};
  return std::optional<Datagram>{announce_now(now)};
}

Datagram DiscoveryAgent::make_answer(std::uint64_t search_id, UdpEndpoint to) const {
  DeviceAnnounce answer = own_;
  answer.search_id = search_id;
  return Datagram{to_bytes(encode(Message{std::move(answer)})), std::move(to)};
}

DiscoveryOutput DiscoveryAgent::on_datagram(std::span<const std::uint8_t> bytes,
                                            const std::string& source_address,
                                            std::uint16_t source_port, TimePoint now) {
  DiscoveryOutput out;
  ++stats_.received;
  if (state_ == State::Stopped) {
    ++stats_.ignored_stopped;
    out.ignored_reason = "agent stopped";
    return out;
  }
  if (bytes.size() > kMaxDatagramSize) {
    ++stats_.ignored_oversized;
    out.ignored_reason = "datagram of " + std::to_string(bytes.size()) + " bytes exceeds " +
                         std::to_string(kMaxDatagramSize);
    return out;
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto decoded = decode(text);
  if (!decoded) {
    ++stats_.ignored_invalid;
    out.ignored_reason = "invalid message: " + decoded.error().message;
    return out;
  }
  Message& message = *decoded;
  if (auto* announce = std::get_if<DeviceAnnounce>(&message)) {
    handle_announce(*announce, source_address, now, out);
  } else if (auto* bye_bye = std::get_if<DeviceByeBye>(&message)) {
    if (auto event = cache_.bye(*bye_bye, now)) out.events.push_back(to_discovery_event(std::move(*event)));
  } else if (auto* search = std::get_if<DeviceSearch>(&message)) {
    handle_search(*search, UdpEndpoint{source_address, source_port}, now, out);
  } else {
    ++stats_.ignored_wrong_type;
    out.ignored_reason = std::string(message_type(message)) + " does not belong on the discovery channel";
  }
  return out;
}

void DiscoveryAgent::handle_announce(const DeviceAnnounce& announce,
                                     const std::string& source_address, TimePoint now,
                                     DiscoveryOutput& out) {
  if (auto event = cache_.observe(announce, source_address, now)) {
    out.events.push_back(to_discovery_event(std::move(*event)));
  }
  if (!announce.search_id || announce.device_id == own_.device_id) return;
  forget_old_searches(now);
  if (open_searches_.count(*announce.search_id) != 0) {
    out.events.push_back(SearchAnswered{*announce.search_id, announce.device_id});
  }
}

void DiscoveryAgent::handle_search(const DeviceSearch& search, UdpEndpoint from, TimePoint now,
                                   DiscoveryOutput& out) {
  if (state_ != State::Running) {
    out.ignored_reason = "DeviceSearch before start";
    return;
  }
  if (open_searches_.count(search.search_id) != 0) return;  // our own search, looped back
  if (!matches(own_, search.conditions)) {
    ++stats_.searches_not_matched;
    return;
  }
  ++stats_.searches_matched;
  // Searchers often repeat a search (UDP may lose it); one answer per search and searcher.
  const bool duplicate = std::any_of(pending_.begin(), pending_.end(), [&](const PendingAnswer& p) {
    return p.search_id == search.search_id && p.to == from;
  });
  if (duplicate || pending_.size() >= settings_.max_pending_answers) {
    ++stats_.answers_dropped;
    out.ignored_reason = duplicate ? "duplicate DeviceSearch" : "too many pending search answers";
    return;
  }
  const std::uint32_t mx = std::min(search.mx, kMaxMx);
  const TimePoint due =
      now + milliseconds(static_cast<milliseconds::rep>(random_below(std::uint64_t{mx} * 1000 + 1)));
  if (due <= now) {
    ++stats_.answers_sent;
    out.datagrams.push_back(make_answer(search.search_id, std::move(from)));
    return;
  }
  pending_.push_back(PendingAnswer{due, search.search_id, std::move(from)});
}

Datagram DiscoveryAgent::search(const SearchConditions& conditions, std::uint32_t mx, TimePoint now) {
  forget_old_searches(now);
  const std::uint64_t search_id = 1 + random_below(kMaxSearchId);
  mx = std::min(mx, kMaxMx);
  if (open_searches_.size() >= settings_.max_open_searches && !open_searches_.empty()) {
    auto oldest = std::min_element(open_searches_.begin(), open_searches_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    open_searches_.erase(oldest);
  }
  open_searches_[search_id] = now + seconds(mx) + settings_.search_grace;
  return to_group(Message{DeviceSearch{search_id, conditions, mx}});
}

void DiscoveryAgent::forget_old_searches(TimePoint now) {
  std::erase_if(open_searches_, [&](const auto& entry) { return entry.second < now; });
}

std::optional<TimePoint> DiscoveryAgent::next_deadline() const {
  if (state_ == State::Stopped) return std::nullopt;
  std::optional<TimePoint> earliest = cache_.next_deadline();
  auto consider = [&](TimePoint t) {
    if (!earliest || t < *earliest) earliest = t;
  };
  if (state_ == State::Running && next_announce_) consider(*next_announce_);
  for (const auto& p : pending_) consider(p.due);
  return earliest;
}

DiscoveryOutput DiscoveryAgent::on_deadline(TimePoint now) {
  DiscoveryOutput out;
  if (state_ == State::Stopped) return out;
  if (state_ == State::Running && next_announce_ && *next_announce_ <= now) {
    out.datagrams.push_back(announce_now(now));
  }
  // Due answers, earliest first.
  auto first_due = std::stable_partition(pending_.begin(), pending_.end(),
                                         [&](const PendingAnswer& p) { return p.due > now; });
  std::vector<PendingAnswer> due(std::make_move_iterator(first_due), std::make_move_iterator(pending_.end()));
  pending_.erase(first_due, pending_.end());
  std::sort(due.begin(), due.end(), [](const PendingAnswer& a, const PendingAnswer& b) { return a.due < b.due; });
  for (auto& p : due) {
    ++stats_.answers_sent;
    out.datagrams.push_back(make_answer(p.search_id, std::move(p.to)));
  }
  forget_old_searches(now);
  for (auto& event : cache_.expire(now)) out.events.push_back(to_discovery_event(std::move(event)));
  return out;
}

std::optional<Datagram> DiscoveryAgent::stop() {
  if (state_ != State::Running) return std::nullopt;
  state_ = State::Stopped;
  pending_.clear();
  next_announce_.reset();
  startup_left_ = 0;
  return to_group(Message{DeviceByeBye{own_.device_id, own_.boot_id}});
}

}  // namespace homep2p

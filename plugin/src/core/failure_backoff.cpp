#include "homep2p/failure_backoff.hpp"

#include <algorithm>

namespace homep2p {

bool FailureBackoff::blocked(std::string_view key, TimePoint now) const {
  const auto it = entries_.find(key);
  return it != entries_.end() && now < it->second.until;
}

TimePoint FailureBackoff::blocked_until(std::string_view key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? TimePoint{} : it->second.until;
}

void FailureBackoff::record_failure(std::string_view key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_entries) {
      // Evict the entry that failed longest ago: a flood of new keys cannot grow memory.
      const auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.last < b.second.last;
      });
      entries_.erase(oldest);
    }
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  ++e.failures;
  e.last = now;
  if (e.failures >= policy_.free_failures) {
    const unsigned extra = std::min(e.failures - policy_.free_failures, 30U);
    Duration delay = policy_.base;
    for (unsigned i = 0; i < extra && delay < policy_.cap; ++i) delay *= 2;
    e.until = now + std::min(delay, policy_.cap);
  }
}

void FailureBackoff::record_success(std::string_view key) {
  const auto it = entries_.find(key);
  if (it != entries_.end()) entries_.erase(it);
}

}  // namespace homep2p

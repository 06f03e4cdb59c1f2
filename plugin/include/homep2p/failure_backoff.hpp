// Back-off after repeated authentication failures: once a key (a user name, or an address for
// unknown user names) has failed `free_failures` times, it is refused at once for
// base * 2^(extra failures), capped. A success clears the key. The map is bounded: the oldest
// entries are evicted, so a flood of addresses cannot grow memory without limit.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "homep2p/time.hpp"

namespace homep2p {

struct BackoffPolicy {
  unsigned free_failures = 3;
  Duration base = seconds(1);
  Duration cap = seconds(60);
  std::size_t max_entries = 4096;
};

class FailureBackoff {
 public:
  explicit FailureBackoff(BackoffPolicy policy = {}) : policy_(policy) {}

  bool blocked(std::string_view key, TimePoint now) const;
  TimePoint blocked_until(std::string_view key) const;  // TimePoint{} when not blocked
  void record_failure(std::string_view key, TimePoint now);
  void record_success(std::string_view key);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    unsigned failures = 0;
    TimePoint until{};
    TimePoint last{};
  };
  BackoffPolicy policy_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace homep2p

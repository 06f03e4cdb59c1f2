// The core never reads a clock: callers pass the current time in (sans-IO).
#pragma once

#include <chrono>

namespace homep2p {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace homep2p

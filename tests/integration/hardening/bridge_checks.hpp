// Small helpers for the bridge hardening tests: JSON fields of MQTT payloads, polling waits,
// and a process's open file descriptors and resident memory (from /proc).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace system_test {

inline rapidjson::Document json_of(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return doc;
}

// A string field of a JSON payload ("" if absent or not a string).
inline std::string field(const std::string& payload, const char* name) {
  const auto doc = json_of(payload);
  if (!doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) return "";
  return doc[name].GetString();
}

inline bool connection_is(const std::string& payload, const std::string& value) {
  return field(payload, "connection") == value;
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

inline std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

// VmRSS in KiB (0 if unknown).
inline std::size_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

}  // namespace system_test

#include "homep2p/json_guard.hpp"

namespace homep2p {

namespace {

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

}  // namespace

std::optional<std::string> unsafe_json_number(std::string_view json) {
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    const std::size_t start = i;
    while (i < json.size() && is_number_char(json[i])) ++i;
    const std::size_t length = i - start;
    if (length > kMaxNumberLength) {
      return "number at offset " + std::to_string(start) + " has " + std::to_string(length) + " characters (at most " +
             std::to_string(kMaxNumberLength) + ")";
    }
    --i;  // the loop's ++i moves to the character after the number
  }
  return std::nullopt;
}

}  // namespace homep2p

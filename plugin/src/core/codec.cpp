// JSON wire codec of HomeP2P v1 (docs/PROTOCOL.md §3 and the message tables of §4-§9).
//
// decode() treats its input as hostile: RapidJSON never throws, and every access below checks the
// JSON type first (RapidJSON's accessors assert, or read garbage with NDEBUG, on a type mismatch).
// Parsing is iterative so that deeply nested input cannot exhaust the stack, and only the
// structure the protocol defines is walked, never arbitrary nesting.
#include "homep2p/codec.hpp"
#include "homep2p/json_guard.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <climits>
#include <cmath>
#include <limits>
#include <set>
#include <type_traits>
#include <utility>

#include "homep2p/framing.hpp"

namespace homep2p {
namespace {

using JsonValue = rapidjson::Value;

// A message never exceeds one frame; datagrams are smaller still.
constexpr std::size_t kMaxMessageSize = kMaxFrameSize;
constexpr std::size_t kMaxPasswordLength = 256;
constexpr std::size_t kMaxErrorTextLength = 1024;
constexpr std::uint64_t kMaxAge = 86400;
constexpr std::uint64_t kMaxConnections = 65535;
constexpr std::size_t kBytes32Base64Length = 44;
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseFullPrecisionFlag;

// What a string field may hold.
enum class TextKind {
  Name,  // ids, types, names, actions, addresses: no control characters
  Free,  // error texts, passwords, string values: any valid UTF-8
};

// Number of Unicode code points in `s`; nullopt with `why` set if `s` is not valid UTF-8 or holds
// a control character it may not. RapidJSON's decoder rejects overlong forms and surrogates, which
// an escape such as "\udc00" could otherwise smuggle past the parser's encoding check.
std::optional<std::size_t> utf8_length(const char* s, std::size_t n, bool allow_control,
                                       const char*& why) {
  rapidjson::MemoryStream stream(s, n);
  std::size_t count = 0;
  while (stream.Tell() < n) {
    unsigned code_point = 0;
    if (!rapidjson::UTF8<>::Decode(stream, &code_point)) {
      why = "must be valid UTF-8";
      return std::nullopt;
    }
    if (!allow_control && (code_point < 0x20 || (code_point >= 0x7f && code_point < 0xa0))) {
      why = "must not contain control characters";
      return std::nullopt;
    }
    ++count;
  }
  return count;
}

// Quotes untrusted text for an error message: short, printable ASCII only.
std::string quote(std::string_view s) {
  constexpr std::size_t kMaxQuoted = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '?';
  }
  if (s.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

std::string range_text(std::uint64_t min, std::uint64_t max) {
  if (max == kU64Max) return "must be an integer >= " + std::to_string(min);
  return "must be an integer in " + std::to_string(min) + ".." + std::to_string(max);
}

// Keeps the first validation error of one decode() call. Readers go on after an error with
// default values (harmless: every access still checks types); decode() then reports the first.
class Errors {
 public:
  void fail(const std::string& where, const std::string& what) {
    if (!first_) first_ = make_error(Errc::InvalidMessage, where + ": " + what);
  }
  bool ok() const { return !first_.has_value(); }
  Error take() { return std::move(*first_); }

 private:
  std::optional<Error> first_;
};

// Typed, bounded access to the fields of one JSON object. `path` names the object in errors,
// e.g. "ServiceSearchResponse.services[2]".
class ObjectReader {
 public:
  ObjectReader(const JsonValue& object, std::string path, Errors& errors)
      : object_(object), path_(std::move(path)), errors_(errors) {
    // Duplicate keys are rejected: two parsers that pick different duplicates would disagree on
    // what a message says.
    std::set<std::string_view> seen;
    for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
      const std::string_view key(it->name.GetString(), it->name.GetStringLength());
      if (!seen.insert(key).second) {
        errors_.fail(path_, "duplicate field " + quote(key));
        break;
      }
    }
  }

  const std::string& path() const { return path_; }
  std::string field(std::string_view name) const { return path_ + "." + std::string(name); }
  void fail(std::string_view name, const std::string& what) { errors_.fail(field(name), what); }
  Errors& errors() { return errors_; }

  const JsonValue* find(const char* name) const {
    auto it = object_.FindMember(name);
    return it == object_.MemberEnd() ? nullptr : &it->value;
  }
  bool has(const char* name) const { return find(name) != nullptr; }

  // Fails if `name` is present: for fields that one form of a message must not carry.
  void forbid(const char* name, const std::string& why) {
    if (has(name)) fail(name, "not allowed " + why);
  }

  std::optional<std::uint64_t> opt_uint(const char* name, std::uint64_t min, std::uint64_t max) {
    const JsonValue* v = find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->IsUint64()) {
      fail(name, range_text(min, max));
      return std::nullopt;
    }
    const std::uint64_t n = v->GetUint64();
    if (n < min || n > max) {
      fail(name, range_text(min, max));
      return std::nullopt;
    }
    return n;
  }
  std::uint64_t uint(const char* name, std::uint64_t min, std::uint64_t max) {
    if (!has(name)) fail(name, "missing");
    return opt_uint(name, min, max).value_or(min);
  }

  std::optional<bool> opt_boolean(const char* name) {
    const JsonValue* v = find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->IsBool()) {
      fail(name, "must be a boolean");
      return std::nullopt;
    }
    return v->GetBool();
  }
  bool boolean(const char* name) {
    if (!has(name)) fail(name, "missing");
    return opt_boolean(name).value_or(false);
  }

  std::optional<std::string> opt_text(const char* name, std::size_t min, std::size_t max,
                                      TextKind kind = TextKind::Name) {
    const JsonValue* v = find(name);
    if (v == nullptr) return std::nullopt;
    return text_value(*v, field(name), min, max, kind);
  }
  std::string text(const char* name, std::size_t min, std::size_t max,
                   TextKind kind = TextKind::Name) {
    if (!has(name)) fail(name, "missing");
    return opt_text(name, min, max, kind).value_or(std::string());
  }

  // Validates one JSON string against the length bounds (in code points) and kind.
  std::optional<std::string> text_value(const JsonValue& v, const std::string& where,
                                        std::size_t min, std::size_t max, TextKind kind) {
    if (!v.IsString()) {
      errors_.fail(where, "must be a string");
      return std::nullopt;
    }
    const char* why = "";
    const auto length =
        utf8_length(v.GetString(), v.GetStringLength(), kind == TextKind::Free, why);
    if (!length) {
      errors_.fail(where, why);
      return std::nullopt;
    }
    if (*length < min || *length > max) {
      errors_.fail(where, "length must be " + std::to_string(min) + ".." + std::to_string(max));
      return std::nullopt;
    }
    return std::string(v.GetString(), v.GetStringLength());
  }

  // A padded base64 field holding exactly 32 bytes.
  std::optional<Bytes32> opt_bytes32(const char* name) {
    const JsonValue* v = find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->IsString()) {
      fail(name, "must be a base64 string");
      return std::nullopt;
    }
    const std::string_view s(v->GetString(), v->GetStringLength());
    if (s.size() != kBytes32Base64Length) {
      fail(name, "must be base64 of 32 bytes (44 characters), got " + std::to_string(s.size()) +
                     " characters");
      return std::nullopt;
    }
    auto bytes = base64_decode(s);
    if (!bytes) {
      fail(name, "invalid base64");
      return std::nullopt;
    }
    if (bytes->size() != 32) {
      fail(name, "must be base64 of 32 bytes, got " + std::to_string(bytes->size()) + " bytes");
      return std::nullopt;
    }
    Bytes32 out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
  }
  std::optional<Bytes32> bytes32(const char* name) {
    if (!has(name)) fail(name, "missing");
    return opt_bytes32(name);
  }

  // An array of at most kMaxListLength elements; nullptr if absent or invalid.
  const JsonValue* array(const char* name, bool required) {
    const JsonValue* v = find(name);
    if (v == nullptr) {
      if (required) fail(name, "missing");
      return nullptr;
    }
    if (!v->IsArray()) {
      fail(name, "must be an array");
      return nullptr;
    }
    if (v->Size() > kMaxListLength) {
      fail(name, "more than " + std::to_string(kMaxListLength) + " entries");
      return nullptr;
    }
    return v;
  }

  const JsonValue* object(const char* name, bool required) {
    const JsonValue* v = find(name);
    if (v == nullptr) {
      if (required) fail(name, "missing");
      return nullptr;
    }
    if (!v->IsObject()) {
      fail(name, "must be an object");
      return nullptr;
    }
    return v;
  }

  // A JSON object of name -> Value (arguments, values, state variables).
  ValueMap value_map(const char* name, bool required) {
    ValueMap out;
    const JsonValue* v = object(name, required);
    if (v == nullptr) return out;
    if (v->MemberCount() > kMaxListLength) {
      fail(name, "more than " + std::to_string(kMaxListLength) + " entries");
      return out;
    }
    ObjectReader map(*v, field(name), errors_);  // rejects duplicate names
    for (auto it = v->MemberBegin(); it != v->MemberEnd() && errors_.ok(); ++it) {
      auto key =
          map.text_value(it->name, map.path() + ".<name>", 1, kMaxNameLength, TextKind::Name);
      if (!key) break;
      const std::string where = map.field(*key);
      const JsonValue& item = it->value;
      if (item.IsBool()) {
        out.emplace(std::move(*key), Value{item.GetBool()});
      } else if (item.IsInt64()) {
        out.emplace(std::move(*key), Value{std::int64_t{item.GetInt64()}});
      } else if (item.IsNumber()) {
        // A literal beyond double's range (2e308) parses as infinity, which JSON cannot carry:
        // we could never send it back (found by fuzz_message).
        if (!std::isfinite(item.GetDouble())) {
          errors_.fail(where, "number out of range");
          break;
        }
        out.emplace(std::move(*key), Value{item.GetDouble()});
      } else if (item.IsString()) {
        auto s = map.text_value(item, where, 0, kMaxMessageSize, TextKind::Free);
        if (s) out.emplace(std::move(*key), Value{std::move(*s)});
      } else {
        errors_.fail(where, "value must be a boolean, number or string");
      }
    }
    return out;
  }

  template <class E>
  E enumeration(const char* name, std::optional<E> (*parse)(std::string_view), E fallback) {
    const JsonValue* v = find(name);
    if (v == nullptr) {
      fail(name, "missing");
      return fallback;
    }
    if (!v->IsString()) {
      fail(name, "must be a string");
      return fallback;
    }
    const std::string_view s(v->GetString(), v->GetStringLength());
    auto parsed = parse(s);
    if (!parsed) {
      fail(name, "unknown value " + quote(s));
      return fallback;
    }
    return *parsed;
  }

 private:
  const JsonValue& object_;
  std::string path_;
  Errors& errors_;
};

// Calls `each(reader, index)` for every element of `array`, which must be objects.
template <class F>
void for_each_object(const JsonValue* array, const std::string& path, Errors& errors, F&& each) {
  if (array == nullptr) return;
  for (rapidjson::SizeType i = 0; i < array->Size() && errors.ok(); ++i) {
    const std::string where = path + "[" + std::to_string(i) + "]";
    const JsonValue& element = (*array)[i];
    if (!element.IsObject()) {
      errors.fail(where, "must be an object");
      return;
    }
    ObjectReader reader(element, where, errors);
    each(reader);
  }
}

std::uint64_t read_serial(ObjectReader& r) {
  return r.uint("serial", 1, kU64Max);
}
std::uint64_t read_request_id(ObjectReader& r) {
  return r.uint("request_id", 0, kU64Max);
}

// ---- Decoders, one per message type ----

Message decode_device_announce(ObjectReader& r) {
  DeviceAnnounce m;
  m.device_id = r.text("device_id", 1, kMaxNameLength);
  m.device_type = r.text("device_type", 1, kMaxNameLength);
  m.friendly_name = r.text("friendly_name", 1, kMaxNameLength);
  m.address = r.text("address", 1, kMaxNameLength);
  m.port = static_cast<std::uint16_t>(r.uint("port", 1, 65535));
  for_each_object(r.array("services", true), r.field("services"), r.errors(), [&](ObjectReader& s) {
    ServiceRef ref;
    ref.id = s.text("id", 1, kMaxNameLength);
    ref.type = s.text("type", 1, kMaxNameLength);
    m.services.push_back(std::move(ref));
  });
  if (const JsonValue* security = r.object("security", true)) {
    ObjectReader s(*security, r.field("security"), r.errors());
    m.security.auth_required = s.boolean("auth_required");
    m.security.algorithms.clear();
    if (const JsonValue* algorithms = s.array("algorithms", true)) {
      for (rapidjson::SizeType i = 0; i < algorithms->Size(); ++i) {
        auto name =
            s.text_value((*algorithms)[i], s.field("algorithms") + "[" + std::to_string(i) + "]", 1,
                         kMaxNameLength, TextKind::Name);
        if (!name) break;
        m.security.algorithms.push_back(std::move(*name));
      }
      if (r.errors().ok() && m.security.auth_required && m.security.algorithms.empty()) {
        s.fail("algorithms", "must not be empty when auth_required is true");
      }
    }
  }
  m.max_age = static_cast<std::uint32_t>(r.uint("max_age", 1, kMaxAge));
  m.boot_id = r.uint("boot_id", 0, kU64Max);
  m.search_id = r.opt_uint("search_id", 0, kU64Max);
  return m;
}

Message decode_device_search(ObjectReader& r) {
  DeviceSearch m;
  m.search_id = r.uint("search_id", 0, kU64Max);
  if (const JsonValue* conditions = r.object("conditions", false)) {
    ObjectReader c(*conditions, r.field("conditions"), r.errors());
    m.conditions.device_type = c.opt_text("device_type", 0, kMaxNameLength).value_or("");
    m.conditions.service_type = c.opt_text("service_type", 0, kMaxNameLength).value_or("");
    m.conditions.device_id = c.opt_text("device_id", 0, kMaxNameLength).value_or("");
  }
  m.mx = static_cast<std::uint32_t>(r.uint("mx", 0, kMaxMx));
  return m;
}

Message decode_device_bye_bye(ObjectReader& r) {
  DeviceByeBye m;
  m.device_id = r.text("device_id", 1, kMaxNameLength);
  m.boot_id = r.uint("boot_id", 0, kU64Max);
  return m;
}

Message decode_connect_request(ObjectReader& r) {
  ConnectRequest m;
  m.serial = read_serial(r);
  m.request_serial = static_cast<std::uint32_t>(r.uint("request_serial", 1, 2));
  if (!r.errors().ok()) return m;
  if (m.request_serial == 1) {
    // Patent step 1: who is asking.
    m.user = r.text("user", 1, kMaxUserNameLength);
    m.device_id = r.text("device_id", 1, kMaxNameLength);
    r.forbid("nonce", "with request_serial 1");
    r.forbid("reply", "with request_serial 1");
  } else {
    // Patent step 5: the answer to the challenge.
    r.forbid("user", "with request_serial 2");
    m.device_id = r.opt_text("device_id", 1, kMaxNameLength).value_or("");
    m.nonce = r.bytes32("nonce");
    m.reply = r.bytes32("reply");
  }
  return m;
}

Message decode_connect_response(ObjectReader& r) {
  ConnectResponse m;
  m.serial = read_serial(r);
  m.response_serial = static_cast<std::uint32_t>(r.uint("response_serial", 1, 2));
  m.result = r.enumeration("result", parse_connect_result, ConnectResult::Success);
  m.device_id = r.text("device_id", 1, kMaxNameLength);
  if (!r.errors().ok()) return m;

  if (m.result == ConnectResult::Authenticate) {
    // Patent step 3: only the first response asks to authenticate.
    if (m.response_serial != 1) {
      r.fail("result", "AUTHENTICATE is only allowed with response_serial 1");
      return m;
    }
    m.algorithm = r.text("algorithm", 1, kMaxNameLength);
    if (r.errors().ok() && *m.algorithm != "ShareKey") {
      r.fail("algorithm", "unsupported algorithm " + quote(*m.algorithm));
    }
    m.challenge = r.bytes32("challenge");
  } else {
    r.forbid("algorithm", "unless result is AUTHENTICATE");
    r.forbid("challenge", "unless result is AUTHENTICATE");
  }

  if (m.result == ConnectResult::Success && m.response_serial == 2) {
    // Step 7: the target proves it knows K too (mutual authentication).
    m.proof = r.bytes32("proof");
  } else {
    r.forbid("proof", "unless result is SUCCESS with response_serial 2");
  }
  return m;
}

Message decode_disconnect(ObjectReader& r) {
  Disconnect m;
  m.serial = read_serial(r);
  m.reason = r.enumeration("reason", parse_disconnect_reason, DisconnectReason::Normal);
  return m;
}

Message decode_ping(ObjectReader& r) {
  return Ping{read_serial(r)};
}
Message decode_pong(ObjectReader& r) {
  return Pong{read_serial(r)};
}

Message decode_service_search(ObjectReader& r) {
  ServiceSearch m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.service_type = r.opt_text("service_type", 0, kMaxNameLength).value_or("");
  return m;
}

ArgumentSpec read_argument_spec(ObjectReader& a) {
  ArgumentSpec spec;
  spec.name = a.text("name", 1, kMaxNameLength);
  spec.type = a.enumeration("type", parse_value_type, ValueType::String);
  const bool numeric = spec.type == ValueType::Int || spec.type == ValueType::Number;
  auto read_bound = [&](const char* name) -> std::optional<double> {
    const JsonValue* v = a.find(name);
    if (v == nullptr) return std::nullopt;
    if (!numeric) {
      a.fail(name, "only allowed with type int or number");
      return std::nullopt;
    }
    if (!v->IsNumber() || !std::isfinite(v->GetDouble())) {
      a.fail(name, v->IsNumber() ? "number out of range" : "must be a number");
      return std::nullopt;
    }
    return v->GetDouble();
  };
  spec.min = read_bound("min");
  spec.max = read_bound("max");
  if (spec.min && spec.max && *spec.min > *spec.max) a.fail("min", "must not exceed max");
  return spec;
}

Message decode_service_search_response(ObjectReader& r) {
  ServiceSearchResponse m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  for_each_object(r.array("services", true), r.field("services"), r.errors(), [&](ObjectReader& s) {
    ServiceDescription d;
    d.id = s.text("id", 1, kMaxNameLength);
    d.type = s.text("type", 1, kMaxNameLength);
    for_each_object(s.array("actions", true), s.field("actions"), s.errors(), [&](ObjectReader& a) {
      ActionSpec action;
      action.name = a.text("name", 1, kMaxNameLength);
      for_each_object(a.array("arguments", true), a.field("arguments"), a.errors(),
                      [&](ObjectReader& g) { action.arguments.push_back(read_argument_spec(g)); });
      action.admin_only = a.opt_boolean("admin_only").value_or(false);
      d.actions.push_back(std::move(action));
    });
    d.state = s.value_map("state", true);
    m.services.push_back(std::move(d));
  });
  return m;
}

Message decode_service_rent(ObjectReader& r) {
  ServiceRent m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.service_id = r.text("service_id", 1, kMaxNameLength);
  m.lease_seconds = static_cast<std::uint32_t>(r.uint("lease_seconds", 1, kMaxLeaseSeconds));
  return m;
}

std::string read_error_text(ObjectReader& r) {
  return r.opt_text("error", 0, kMaxErrorTextLength, TextKind::Free).value_or("");
}

Message decode_service_rent_response(ObjectReader& r) {
  ServiceRentResponse m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.result = r.enumeration("result", parse_service_result, ServiceResult::Ok);
  if (m.result == ServiceResult::Ok) {
    m.lease_id = r.text("lease_id", 1, kMaxNameLength);
    m.lease_seconds = static_cast<std::uint32_t>(r.uint("lease_seconds", 1, kMaxLeaseSeconds));
  } else {
    m.lease_id = r.opt_text("lease_id", 1, kMaxNameLength).value_or("");
    m.lease_seconds =
        static_cast<std::uint32_t>(r.opt_uint("lease_seconds", 1, kMaxLeaseSeconds).value_or(0));
  }
  m.error = read_error_text(r);
  return m;
}

Message decode_service_invoke(ObjectReader& r) {
  ServiceInvoke m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.lease_id = r.text("lease_id", 1, kMaxNameLength);
  m.action = r.text("action", 1, kMaxNameLength);
  m.arguments = r.value_map("arguments", true);
  return m;
}

Message decode_service_invoke_response(ObjectReader& r) {
  ServiceInvokeResponse m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.result = r.enumeration("result", parse_service_result, ServiceResult::Ok);
  m.values = r.value_map("values", false);
  m.error = read_error_text(r);
  return m;
}

Message decode_service_release(ObjectReader& r) {
  ServiceRelease m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.lease_id = r.text("lease_id", 1, kMaxNameLength);
  return m;
}

Message decode_service_event(ObjectReader& r) {
  ServiceEvent m;
  m.serial = read_serial(r);
  m.lease_id = r.text("lease_id", 1, kMaxNameLength);
  m.service_id = r.text("service_id", 1, kMaxNameLength);
  m.variables = r.value_map("variables", true);
  return m;
}

Message decode_configure(ObjectReader& r) {
  Configure m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  for_each_object(r.array("accounts", false), r.field("accounts"), r.errors(),
                  [&](ObjectReader& a) {
                    AccountUpdate u;
                    u.user = a.text("user", 1, kMaxUserNameLength);
                    u.password = a.opt_text("password", 1, kMaxPasswordLength, TextKind::Free);
                    if (a.has("role"))
                      u.role = a.enumeration("role", parse_account_role, AccountRole::User);
                    u.remove = a.opt_boolean("remove").value_or(false);
                    if (u.remove) a.forbid("password", "with remove");
                    m.accounts.push_back(std::move(u));
                  });
  if (auto n = r.opt_uint("max_connections", 1, kMaxConnections)) {
    m.max_connections = static_cast<std::uint32_t>(*n);
  }
  m.auth_required = r.opt_boolean("auth_required");
  return m;
}

Message decode_configure_response(ObjectReader& r) {
  ConfigureResponse m;
  m.serial = read_serial(r);
  m.request_id = read_request_id(r);
  m.result = r.enumeration("result", parse_service_result, ServiceResult::Ok);
  m.error = read_error_text(r);
  return m;
}

struct Decoder {
  std::string_view type;
  Message (*decode)(ObjectReader&);
};

constexpr Decoder kDecoders[] = {
    {"DeviceAnnounce", decode_device_announce},
    {"DeviceSearch", decode_device_search},
    {"DeviceByeBye", decode_device_bye_bye},
    {"ConnectRequest", decode_connect_request},
    {"ConnectResponse", decode_connect_response},
    {"Disconnect", decode_disconnect},
    {"Ping", decode_ping},
    {"Pong", decode_pong},
    {"ServiceSearch", decode_service_search},
    {"ServiceSearchResponse", decode_service_search_response},
    {"ServiceRent", decode_service_rent},
    {"ServiceRentResponse", decode_service_rent_response},
    {"ServiceInvoke", decode_service_invoke},
    {"ServiceInvokeResponse", decode_service_invoke_response},
    {"ServiceRelease", decode_service_release},
    {"ServiceEvent", decode_service_event},
    {"Configure", decode_configure},
    {"ConfigureResponse", decode_configure_response},
};

// ---- Encoding ----

class JsonOut {
 public:
  JsonOut() : writer_(buffer_) {}

  void begin_object() { writer_.StartObject(); }
  void end_object() { writer_.EndObject(); }
  void begin_array() { writer_.StartArray(); }
  void end_array() { writer_.EndArray(); }
  void key(std::string_view k) {
    writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  }
  void string(std::string_view s) {
    writer_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
  void uint(std::uint64_t n) { writer_.Uint64(n); }
  void boolean(bool b) { writer_.Bool(b); }
  // RapidJSON writes integral doubles as "21.0", so they decode back as doubles. JSON has no
  // NaN or infinity: those become null, which decode() rejects, rather than broken JSON.
  void number(double d) {
    if (std::isfinite(d)) {
      writer_.Double(d);
    } else {
      writer_.Null();
    }
  }

  void field(std::string_view k, std::string_view s) {
    key(k);
    string(s);
  }
  void field(std::string_view k, std::uint64_t n) {
    key(k);
    uint(n);
  }
  void field_bool(std::string_view k, bool b) {
    key(k);
    boolean(b);
  }
  void field(std::string_view k, const Bytes32& b) {
    key(k);
    string(base64_encode(b));
  }

  void value(const Value& v) {
    std::visit(
        [this](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, bool>)
            writer_.Bool(x);
          else if constexpr (std::is_same_v<T, std::int64_t>)
            writer_.Int64(x);
          else if constexpr (std::is_same_v<T, double>)
            number(x);
          else
            string(x);
        },
        v);
  }
  void value_map(std::string_view k, const ValueMap& map) {
    key(k);
    begin_object();
    for (const auto& [name, v] : map) {
      key(name);
      value(v);
    }
    end_object();
  }

  std::string take() { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

void encode_body(JsonOut& o, const DeviceAnnounce& m) {
  o.field("device_id", m.device_id);
  o.field("device_type", m.device_type);
  o.field("friendly_name", m.friendly_name);
  o.field("address", m.address);
  o.field("port", std::uint64_t{m.port});
  o.key("services");
  o.begin_array();
  for (const auto& s : m.services) {
    o.begin_object();
    o.field("id", s.id);
    o.field("type", s.type);
    o.end_object();
  }
  o.end_array();
  o.key("security");
  o.begin_object();
  o.field_bool("auth_required", m.security.auth_required);
  o.key("algorithms");
  o.begin_array();
  for (const auto& a : m.security.algorithms) o.string(a);
  o.end_array();
  o.end_object();
  o.field("max_age", std::uint64_t{m.max_age});
  o.field("boot_id", m.boot_id);
  if (m.search_id) o.field("search_id", *m.search_id);
}

void encode_body(JsonOut& o, const DeviceSearch& m) {
  o.field("search_id", m.search_id);
  o.key("conditions");
  o.begin_object();
  if (!m.conditions.device_type.empty()) o.field("device_type", m.conditions.device_type);
  if (!m.conditions.service_type.empty()) o.field("service_type", m.conditions.service_type);
  if (!m.conditions.device_id.empty()) o.field("device_id", m.conditions.device_id);
  o.end_object();
  o.field("mx", std::uint64_t{m.mx});
}

void encode_body(JsonOut& o, const DeviceByeBye& m) {
  o.field("device_id", m.device_id);
  o.field("boot_id", m.boot_id);
}

void encode_body(JsonOut& o, const ConnectRequest& m) {
  o.field("serial", m.serial);
  o.field("request_serial", std::uint64_t{m.request_serial});
  // Fields are written as the struct holds them; a struct that mixes the two forms encodes to
  // a message that decode() rejects, which is the honest outcome.
  if (m.request_serial == 1 || !m.user.empty()) o.field("user", m.user);
  if (m.request_serial == 1 || !m.device_id.empty()) o.field("device_id", m.device_id);
  if (m.nonce) o.field("nonce", *m.nonce);
  if (m.reply) o.field("reply", *m.reply);
}

void encode_body(JsonOut& o, const ConnectResponse& m) {
  o.field("serial", m.serial);
  o.field("response_serial", std::uint64_t{m.response_serial});
  o.field("result", to_string(m.result));
  o.field("device_id", m.device_id);
  if (m.algorithm) o.field("algorithm", *m.algorithm);
  if (m.challenge) o.field("challenge", *m.challenge);
  if (m.proof) o.field("proof", *m.proof);
}

void encode_body(JsonOut& o, const Disconnect& m) {
  o.field("serial", m.serial);
  o.field("reason", to_string(m.reason));
}

void encode_body(JsonOut& o, const Ping& m) {
  o.field("serial", m.serial);
}
void encode_body(JsonOut& o, const Pong& m) {
  o.field("serial", m.serial);
}

void encode_body(JsonOut& o, const ServiceSearch& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  if (!m.service_type.empty()) o.field("service_type", m.service_type);
}

void encode_body(JsonOut& o, const ServiceSearchResponse& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.key("services");
  o.begin_array();
  for (const auto& s : m.services) {
    o.begin_object();
    o.field("id", s.id);
    o.field("type", s.type);
    o.key("actions");
    o.begin_array();
    for (const auto& a : s.actions) {
      o.begin_object();
      o.field("name", a.name);
      o.key("arguments");
      o.begin_array();
      for (const auto& g : a.arguments) {
        o.begin_object();
        o.field("name", g.name);
        o.field("type", to_string(g.type));
        // An infinite bound is no bound: leave it out rather than write invalid JSON.
        if (g.min && std::isfinite(*g.min)) {
          o.key("min");
          o.number(*g.min);
        }
        if (g.max && std::isfinite(*g.max)) {
          o.key("max");
          o.number(*g.max);
        }
        o.end_object();
      }
      o.end_array();
      if (a.admin_only) o.field_bool("admin_only", true);
      o.end_object();
    }
    o.end_array();
    o.value_map("state", s.state);
    o.end_object();
  }
  o.end_array();
}

void encode_body(JsonOut& o, const ServiceRent& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.field("service_id", m.service_id);
  o.field("lease_seconds", std::uint64_t{m.lease_seconds});
}

void encode_body(JsonOut& o, const ServiceRentResponse& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.field("result", to_string(m.result));
  if (m.result == ServiceResult::Ok || !m.lease_id.empty()) o.field("lease_id", m.lease_id);
  if (m.result == ServiceResult::Ok || m.lease_seconds != 0) {
    o.field("lease_seconds", std::uint64_t{m.lease_seconds});
  }
  if (!m.error.empty()) o.field("error", m.error);
}

void encode_body(JsonOut& o, const ServiceInvoke& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.field("lease_id", m.lease_id);
  o.field("action", m.action);
  o.value_map("arguments", m.arguments);
}

void encode_body(JsonOut& o, const ServiceInvokeResponse& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.field("result", to_string(m.result));
  if (m.result == ServiceResult::Ok || !m.values.empty()) o.value_map("values", m.values);
  if (!m.error.empty()) o.field("error", m.error);
}

void encode_body(JsonOut& o, const ServiceRelease& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.field("lease_id", m.lease_id);
}

void encode_body(JsonOut& o, const ServiceEvent& m) {
  o.field("serial", m.serial);
  o.field("lease_id", m.lease_id);
  o.field("service_id", m.service_id);
  o.value_map("variables", m.variables);
}

void encode_body(JsonOut& o, const Configure& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  if (!m.accounts.empty()) {
    o.key("accounts");
    o.begin_array();
    for (const auto& a : m.accounts) {
      o.begin_object();
      o.field("user", a.user);
      if (a.password) o.field("password", *a.password);
      o.field("role", to_string(a.role));
      if (a.remove) o.field_bool("remove", true);
      o.end_object();
    }
    o.end_array();
  }
  if (m.max_connections) o.field("max_connections", std::uint64_t{*m.max_connections});
  if (m.auth_required) o.field_bool("auth_required", *m.auth_required);
}

void encode_body(JsonOut& o, const ConfigureResponse& m) {
  o.field("serial", m.serial);
  o.field("request_id", m.request_id);
  o.field("result", to_string(m.result));
  if (!m.error.empty()) o.field("error", m.error);
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string encode(const Message& message) {
  JsonOut o;
  o.begin_object();
  o.field("type", message_type(message));
  std::visit([&o](const auto& m) { encode_body(o, m); }, message);
  o.end_object();
  return o.take();
}

Result<Message> decode(std::string_view json) {
  if (json.size() > kMaxMessageSize) {
    return make_error(Errc::InvalidMessage,
                      "message: larger than " + std::to_string(kMaxMessageSize) + " bytes");
  }
  // RapidJSON's length-bounded stream reads a NUL byte as end of input and would ignore what
  // follows; JSON allows no raw NUL anywhere, so refuse it outright.
  if (json.find('\0') != std::string_view::npos) {
    return make_error(Errc::InvalidMessage, "message: invalid JSON: NUL byte in input");
  }
  // RapidJSON 1.1 crashes on some long number literals (json_guard.hpp): refuse them first.
  if (auto unsafe = unsafe_json_number(json)) {
    return make_error(Errc::InvalidMessage, "message: invalid JSON: " + *unsafe);
  }
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(json.empty() ? "" : json.data(), json.size());
  if (doc.HasParseError()) {
    return make_error(Errc::InvalidMessage, std::string("message: invalid JSON: ") +
                                                rapidjson::GetParseError_En(doc.GetParseError()) +
                                                " at offset " +
                                                std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return make_error(Errc::InvalidMessage, "message: not a JSON object");

  auto type_it = doc.FindMember("type");
  if (type_it == doc.MemberEnd()) return make_error(Errc::InvalidMessage, "message.type: missing");
  if (!type_it->value.IsString()) {
    return make_error(Errc::InvalidMessage, "message.type: must be a string");
  }
  const std::string_view type(type_it->value.GetString(), type_it->value.GetStringLength());
  for (const auto& decoder : kDecoders) {
    if (decoder.type != type) continue;
    Errors errors;
    ObjectReader reader(doc, std::string(type), errors);
    if (!errors.ok()) return errors.take();
    Message message = decoder.decode(reader);
    if (!errors.ok()) return errors.take();
    return message;
  }
  return make_error(Errc::InvalidMessage, "message.type: unknown type " + quote(type));
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return {};
  // EVP_EncodeBlock takes an int length; nothing in the protocol comes near that.
  if (bytes.size() > static_cast<std::size_t>(INT_MAX / 4 * 3)) return {};
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

Result<Bytes> base64_decode(std::string_view text) {
  if (text.empty()) return Bytes{};
  if (text.size() % 4 != 0) {
    return make_error(Errc::InvalidMessage, "base64: length must be a multiple of 4");
  }
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    return make_error(Errc::InvalidMessage, "base64: input too long");
  }
  // EVP_DecodeBlock skips surrounding whitespace and does not report padding; check the alphabet
  // and padding here so that only the canonical, padded form is accepted.
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (!is_base64_char(text[i])) {
      return make_error(Errc::InvalidMessage, "base64: invalid character at " + std::to_string(i));
    }
  }
  Bytes out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
    return make_error(Errc::InvalidMessage, "base64: invalid encoding");
  }
  out.resize(out.size() - padding);
  // Unused bits after the last byte must be zero, so that each value has one encoding.
  if (base64_encode(out) != text) {
    return make_error(Errc::InvalidMessage, "base64: non-canonical encoding");
  }
  return out;
}

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

Result<Bytes> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return make_error(Errc::InvalidMessage, "hex: odd length");
  Bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_digit(text[i]);
    const int lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return make_error(Errc::InvalidMessage,
                        "hex: invalid character at " + std::to_string(hi < 0 ? i : i + 1));
    }
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return out;
}

}  // namespace homep2p

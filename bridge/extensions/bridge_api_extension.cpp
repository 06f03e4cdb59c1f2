// bridge/request/<command> -> bridge/response/<command> (model: Zigbee2MQTT's
// lib/extension/bridge.ts): a lookup table of handlers, one per command. Every request gets
// exactly one response, {"status":"ok","data":{...}} or {"status":"error","error":"...","data":{}},
// with the request's "transaction" echoed as-is. Actions that complete later (connect, invoke,
// configure, ...) answer from their completion. The exact contract is docs/MQTT.md §4.
//
// Requests come from anyone who can publish on the broker: every payload is treated as hostile
// (parsed iteratively, NUL bytes and invalid UTF-8 refused, every field type-checked, strings
// quoted and shortened before they reach an error message). Passwords (device/configure) never
// appear in a response or a log line.
#include <rapidjson/document.h>
#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bridge_events.hpp"
#include "core/command_text.hpp"
#include "core/topics.hpp"
#include "extensions.hpp"

namespace peer2mqtt {
namespace {

using JsonValue = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// A transaction is echoed by copying it: copying and writing RapidJSON values recurses, so a
// pathologically nested transaction is refused instead of exhausting the stack.
constexpr int kMaxTransactionDepth = 16;
constexpr std::size_t kMaxUserNameLength = homep2p::kMaxUserNameLength;
constexpr std::size_t kMaxPasswordLength = 256;  // as the protocol codec accepts
constexpr std::uint64_t kMaxConnections = 65535;


// ---- small helpers -----------------------------------------------------------------------

std::string_view view(const JsonValue& v) { return {v.GetString(), v.GetStringLength()}; }

// True if `s` is valid UTF-8 without control characters (a friendly name becomes a topic level).
bool printable_utf8(std::string_view s) {
  rapidjson::MemoryStream stream(s.data(), s.size());
  while (stream.Tell() < s.size()) {
    unsigned code_point = 0;
    if (!rapidjson::UTF8<>::Decode(stream, &code_point)) return false;
    if (code_point < 0x20 || (code_point >= 0x7f && code_point < 0xa0)) return false;
  }
  return true;
}

// Nesting depth of `v`, stopping as soon as it exceeds `limit` (so itself bounded).
bool depth_within(const JsonValue& v, int limit) {
  if (limit < 0) return false;
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      if (!depth_within(item, limit - 1)) return false;
    }
  } else if (v.IsObject()) {
    for (const auto& member : v.GetObject()) {
      if (!depth_within(member.value, limit - 1)) return false;
    }
  }
  return true;
}

JsonValue string_value(std::string_view s, Allocator& a) {
  return JsonValue(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

void add(JsonValue& object, std::string_view key, JsonValue value, Allocator& a) {
  object.AddMember(string_value(key, a), value, a);
}
void add(JsonValue& object, std::string_view key, std::string_view value, Allocator& a) {
  add(object, key, string_value(value, a), a);
}

JsonValue to_json(const homep2p::Value& value, Allocator& a) {
  if (const auto* b = std::get_if<bool>(&value)) return JsonValue(*b);
  if (const auto* i = std::get_if<std::int64_t>(&value)) return JsonValue(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    // JSON has no NaN or infinity; RapidJSON's Writer would emit nothing and break the document.
    return std::isfinite(*d) ? JsonValue(*d) : JsonValue(rapidjson::kNullType);
  }
  return string_value(std::get<std::string>(value), a);
}

JsonValue to_json(const homep2p::ValueMap& values, Allocator& a) {
  JsonValue object(rapidjson::kObjectType);
  for (const auto& [name, value] : values) add(object, name, to_json(value, a), a);
  return object;
}

// Reads the fields of one JSON object; the first problem wins and names the field. Fields a
// handler never asked for are refused by finish(), so that a typo ("targt") is an error rather
// than a silently different command.
class FieldReader {
 public:
  FieldReader(const JsonValue& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  std::optional<std::string> required_string(const char* name) {
    const JsonValue* v = take(name);
    if (!v || !v->IsString() || v->GetStringLength() == 0) {
      fail(name, "required string");
      return std::nullopt;
    }
    return std::string(view(*v));
  }
  std::optional<std::string> optional_string(const char* name, std::size_t max_length) {
    const JsonValue* v = take(name);
    if (!v) return std::nullopt;
    if (!v->IsString() || v->GetStringLength() > max_length) {
      fail(name, "must be a string of at most " + std::to_string(max_length) + " bytes");
      return std::nullopt;
    }
    return std::string(view(*v));
  }
  std::optional<bool> optional_bool(const char* name) {
    const JsonValue* v = take(name);
    if (!v) return std::nullopt;
    if (!v->IsBool()) {
      fail(name, "must be true or false");
      return std::nullopt;
    }
    return v->GetBool();
  }
  std::optional<std::uint64_t> optional_uint(const char* name, std::uint64_t min, std::uint64_t max) {
    const JsonValue* v = take(name);
    if (!v) return std::nullopt;
    if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max) {
      fail(name, "must be an integer " + std::to_string(min) + ".." + std::to_string(max));
      return std::nullopt;
    }
    return v->GetUint64();
  }
  const JsonValue* optional_object(const char* name) {
    const JsonValue* v = take(name);
    if (v && !v->IsObject()) {
      fail(name, "must be a JSON object");
      return nullptr;
    }
    return v;
  }
  const JsonValue* optional_array(const char* name) {
    const JsonValue* v = take(name);
    if (v && !v->IsArray()) {
      fail(name, "must be a JSON array");
      return nullptr;
    }
    return v;
  }

  // Refuses fields nobody asked for (besides `also`, e.g. "transaction"). Returns ok().
  bool finish(std::initializer_list<std::string_view> also = {}) {
    if (error_) return false;
    for (const auto& member : object_.GetObject()) {
      const std::string_view key = view(member.name);
      bool known = asked_.count(std::string(key)) != 0;
      for (auto a : also) known = known || a == key;
      if (known) continue;
      std::vector<std::string> expected(asked_.begin(), asked_.end());
      for (auto a : also) expected.emplace_back(a);
      error_ = (prefix_.empty() ? std::string() : prefix_ + ": ") + "unknown field " + quote_untrusted(key) +
               " (expected: " + join_names(expected) + ")";
      return false;
    }
    return true;
  }

  // "<prefix>.<name>: <what>", the first problem only.
  void fail(std::string_view name, std::string_view what) {
    if (error_) return;
    error_ = (prefix_.empty() ? std::string() : prefix_ + ".") + std::string(name) + ": " +
             std::string(what);
  }
  void fail_with(std::string message) {
    if (!error_) error_ = std::move(message);
  }
  bool ok() const { return !error_; }
  const std::string& error() const { return *error_; }

 private:
  const JsonValue* take(const char* name) {
    asked_.insert(name);
    auto it = object_.FindMember(name);
    return it == object_.MemberEnd() ? nullptr : &it->value;
  }

  const JsonValue& object_;
  std::string prefix_;  // "accounts[0]" for nested objects
  std::set<std::string> asked_;
  std::optional<std::string> error_;
};

// ---- the extension -------------------------------------------------------------------------

// One request until its response is out. Shared with the completion callbacks of async actions.
struct Pending {
  std::string command;
  std::shared_ptr<rapidjson::Document> transaction;  // null: the request had none
  bool answered = false;
};
using PendingPtr = std::shared_ptr<Pending>;

class BridgeApiExtension : public Extension {
 public:
  explicit BridgeApiExtension(BridgeContext& context)
      : Extension(context),
        topics_(context.settings.base_topic, context.settings.homeassistant_prefix),
        handlers_{
            {"device/connect", &BridgeApiExtension::handle_connect},
            {"device/disconnect", &BridgeApiExtension::handle_disconnect},
            {"device/search", &BridgeApiExtension::handle_search},
            {"device/services", &BridgeApiExtension::handle_services},
            {"device/invoke", &BridgeApiExtension::handle_invoke},
            {"device/configure", &BridgeApiExtension::handle_configure},
            {"device/rename", &BridgeApiExtension::handle_rename},
            {"device/remove", &BridgeApiExtension::handle_remove},
        } {}

  ~BridgeApiExtension() override { alive_.reset(); }

  std::string name() const override { return "bridge_api"; }

  void start() override {
    ctx_.mqtt.subscribe(topics_.request_filter());
    ctx_.bus.subscribe(name(), [this](const BridgeEvent& event) {
      if (const auto* received = std::get_if<MqttReceived>(&event)) on_message(*received);
    });
  }

 private:
  using Handler = void (BridgeApiExtension::*)(const JsonValue& request, const PendingPtr& pending);

  void on_message(const MqttReceived& message) {
    const std::string prefix = topics_.request_prefix();
    if (message.topic.compare(0, prefix.size(), prefix) != 0) return;
    auto pending = std::make_shared<Pending>();
    pending->command = message.topic.substr(prefix.size());
    // A handler must not end without its one response, whatever happens inside it.
    try {
      dispatch(message.payload, pending);
    } catch (const std::exception& e) {
      respond_error(pending, std::string("internal error: ") + e.what());
    } catch (...) {
      respond_error(pending, "internal error");
    }
  }

  void dispatch(const std::string& payload, const PendingPtr& pending) {
    rapidjson::Document request;
    if (auto error = parse_command_payload(payload, request)) return respond_error(pending, *error);
    if (!request.IsObject()) {
      return respond_error(pending, "payload: must be a JSON object");
    }
    if (auto it = request.FindMember("transaction"); it != request.MemberEnd()) {
      if (!depth_within(it->value, kMaxTransactionDepth)) {
        return respond_error(pending, "transaction: nested more than " +
                                          std::to_string(kMaxTransactionDepth) + " levels");
      }
      pending->transaction = std::make_shared<rapidjson::Document>();
      pending->transaction->CopyFrom(it->value, pending->transaction->GetAllocator());
    }
    auto handler = handlers_.find(pending->command);
    if (handler == handlers_.end()) {
      std::vector<std::string> known;
      for (const auto& entry : handlers_) known.push_back(entry.first);
      return respond_error(pending, "unknown command " + quote_untrusted(pending->command) + " (known: " +
                                        join_names(known) + ")");
    }
    (this->*(handler->second))(request, pending);
  }

  // ---- responses ----

  void respond_ok(const PendingPtr& pending, const rapidjson::Document& data) {
    respond(pending, true, data, {});
  }
  void respond_error(const PendingPtr& pending, const std::string& error) {
    rapidjson::Document empty(rapidjson::kObjectType);
    respond(pending, false, empty, error);
  }

  void respond(const PendingPtr& pending, bool ok, const JsonValue& data, const std::string& error) {
    if (pending->answered) {
      // An action that reports twice must not produce a second response.
      spdlog::warn("bridge/request/{}: a second completion was ignored", pending->command);
      return;
    }
    pending->answered = true;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("status");
    writer.String(ok ? "ok" : "error");
    writer.Key("data");
    data.Accept(writer);
    if (!ok) {
      writer.Key("error");
      writer.String(error.c_str(), static_cast<rapidjson::SizeType>(error.size()));
    }
    if (pending->transaction) {
      writer.Key("transaction");
      pending->transaction->Accept(writer);
    }
    writer.EndObject();
    if (ok) {
      spdlog::info("bridge/request/{}: ok", pending->command);
    } else {
      spdlog::warn("bridge/request/{}: {}", pending->command, error);
    }
    ctx_.mqtt.publish(MqttMessage{topics_.response(pending->command),
                                  std::string(buffer.GetString(), buffer.GetSize()), false, 1});
  }

  // A completion for an async action. It runs on the bridge's thread, possibly after this
  // extension is gone (shutdown): then it does nothing.
  template <class F>
  ActionDone completion(F on_done) {
    return [alive = std::weak_ptr<int>(alive_), on_done = std::move(on_done)](ActionResult r) {
      if (alive.expired()) return;
      on_done(std::move(r));
    };
  }

  // ---- shared checks ----

  // Reads the required "device" field and resolves it; responds with the error otherwise.
  DeviceRecord* resolve(const std::string& name_or_id, const PendingPtr& pending) {
    DeviceRecord* device = ctx_.devices.resolve(name_or_id);
    if (!device) respond_error(pending, "unknown device " + quote_untrusted(name_or_id));
    return device;
  }

  bool require_connected(const DeviceRecord& device, const PendingPtr& pending) {
    if (device.link == LinkState::Connected) return true;
    respond_error(pending, "the bridge is not connected to " + quote_untrusted(device.friendly_name) +
                               " (connection: " + std::string(to_string(device.link)) +
                               "); connect it first");
    return false;
  }

  static rapidjson::Document device_data(const DeviceRecord& device) {
    rapidjson::Document data(rapidjson::kObjectType);
    add(data, "device", device.friendly_name, data.GetAllocator());
    add(data, "device_id", device.device_id, data.GetAllocator());
    return data;
  }

  // ---- device/connect, device/disconnect ----

  void handle_connect(const JsonValue& request, const PendingPtr& pending) {
    handle_connection(request, pending, true);
  }
  void handle_disconnect(const JsonValue& request, const PendingPtr& pending) {
    handle_connection(request, pending, false);
  }

  void handle_connection(const JsonValue& request, const PendingPtr& pending, bool connect) {
    FieldReader fields(request, "");
    auto device_name = fields.required_string("device");
    auto target_name = fields.optional_string("target", homep2p::kMaxNameLength * 4);
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    DeviceRecord* device = resolve(*device_name, pending);
    if (!device) return;
    rapidjson::Document data = device_data(*device);
    const std::string device_id = device->device_id;

    if (target_name) {
      DeviceRecord* target = resolve(*target_name, pending);
      if (!target) return;
      if (target->device_id == device_id) {
        return respond_error(pending, "device and target are the same device " +
                                          quote_untrusted(device->friendly_name));
      }
      add(data, "target", target->friendly_name, data.GetAllocator());
      add(data, "target_id", target->device_id, data.GetAllocator());
      const std::string target_id = target->device_id;
      auto done = completion([this, pending, data = std::make_shared<rapidjson::Document>(
                                                 std::move(data))](const ActionResult& r) {
        finish_action(pending, *data, r);
      });
      if (connect) {
        ctx_.actions.connect_between(device_id, target_id, std::move(done));
      } else {
        ctx_.actions.disconnect_between(device_id, target_id, std::move(done));
      }
      return;
    }

    // What Home Assistant wants survives a restart: the bridge reconnects wanted devices.
    device->wanted = connect;
    ctx_.actions.save_state();
    auto done = completion(
        [this, pending, data = std::make_shared<rapidjson::Document>(std::move(data))](
            const ActionResult& r) { finish_action(pending, *data, r); });
    if (connect) {
      ctx_.actions.connect(device_id, std::move(done));
    } else {
      ctx_.actions.disconnect(device_id, std::move(done));
    }
  }

  // Responds to a connection action: its data plus "result" when ok, the failure otherwise.
  void finish_action(const PendingPtr& pending, rapidjson::Document& data, const ActionResult& r) {
    if (!r.ok) return respond_error(pending, failure_text(r));
    if (!r.result.empty()) add(data, "result", r.result, data.GetAllocator());
    respond_ok(pending, data);
  }

  // ---- device/search ----

  void handle_search(const JsonValue& request, const PendingPtr& pending) {
    FieldReader fields(request, "");
    homep2p::SearchConditions conditions;
    conditions.device_type = fields.optional_string("type", homep2p::kMaxNameLength).value_or("");
    conditions.service_type =
        fields.optional_string("service_type", homep2p::kMaxNameLength).value_or("");
    conditions.device_id = fields.optional_string("device_id", homep2p::kMaxNameLength).value_or("");
    const auto mx = fields.optional_uint("mx", 0, homep2p::kMaxMx);
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    const auto chosen = static_cast<std::uint32_t>(
        mx.value_or(std::min<std::uint32_t>(ctx_.settings.search_mx, homep2p::kMaxMx)));
    ctx_.actions.search(conditions, chosen);
    // Answers arrive as announcements over the next `mx` seconds (bridge/event device_announced).
    rapidjson::Document data(rapidjson::kObjectType);
    data.AddMember("mx", chosen, data.GetAllocator());
    respond_ok(pending, data);
  }

  // ---- device/services ----

  void handle_services(const JsonValue& request, const PendingPtr& pending) {
    FieldReader fields(request, "");
    auto device_name = fields.required_string("device");
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    DeviceRecord* device = resolve(*device_name, pending);
    if (!device || !require_connected(*device, pending)) return;
    rapidjson::Document data = device_data(*device);
    auto& a = data.GetAllocator();
    JsonValue services(rapidjson::kArrayType);
    for (const auto& [id, service] : device->services) {
      JsonValue s(rapidjson::kObjectType);
      add(s, "id", service.id, a);
      add(s, "type", service.type, a);
      JsonValue actions(rapidjson::kArrayType);
      for (const auto& action : service.actions) {
        JsonValue act(rapidjson::kObjectType);
        add(act, "name", action.name, a);
        add(act, "admin_only", JsonValue(action.admin_only), a);
        JsonValue arguments(rapidjson::kArrayType);
        for (const auto& argument : action.arguments) {
          JsonValue arg(rapidjson::kObjectType);
          add(arg, "name", argument.name, a);
          add(arg, "type", homep2p::to_string(argument.type), a);
          if (argument.min) add(arg, "min", to_json(homep2p::Value(*argument.min), a), a);
          if (argument.max) add(arg, "max", to_json(homep2p::Value(*argument.max), a), a);
          arguments.PushBack(arg, a);
        }
        add(act, "arguments", std::move(arguments), a);
        actions.PushBack(act, a);
      }
      add(s, "actions", std::move(actions), a);
      add(s, "state", to_json(service.state, a), a);
      services.PushBack(s, a);
    }
    add(data, "services", std::move(services), a);
    respond_ok(pending, data);
  }

  // ---- device/invoke ----

  void handle_invoke(const JsonValue& request, const PendingPtr& pending) {
    FieldReader fields(request, "");
    auto device_name = fields.required_string("device");
    auto service_id = fields.required_string("service");
    auto action = fields.required_string("action");
    const JsonValue* arguments_json = fields.optional_object("arguments");
    homep2p::ValueMap arguments;
    if (fields.ok() && arguments_json) {
      for (const auto& member : arguments_json->GetObject()) {
        auto value = argument_value(member.value);
        if (!value) {
          fields.fail_with("arguments." + quote_untrusted(view(member.name)) +
                           ": " + std::string(kArgumentValueRule));
          break;
        }
        arguments[std::string(view(member.name))] = std::move(*value);
      }
    }
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    DeviceRecord* device = resolve(*device_name, pending);
    if (!device || !require_connected(*device, pending)) return;
    auto service = device->services.find(*service_id);
    if (service == device->services.end()) {
      std::vector<std::string> rented;
      for (const auto& entry : device->services) rented.push_back(entry.first);
      return respond_error(pending, "unknown service " + quote_untrusted(*service_id) + " on " +
                                        quote_untrusted(device->friendly_name) + " (rented: " +
                                        (rented.empty() ? std::string("none") : join_names(rented)) + ")");
    }
    // The service's description names its actions; when it does, a typo fails here, clearly.
    const auto& specs = service->second.actions;
    if (!specs.empty()) {
      bool found = false;
      std::vector<std::string> names;
      for (const auto& spec : specs) {
        found = found || spec.name == *action;
        names.push_back(spec.name);
      }
      if (!found) {
        return respond_error(pending, "unknown action " + quote_untrusted(*action) + " of service " +
                                          quote_untrusted(*service_id) + " (actions: " + join_names(names) + ")");
      }
    }
    const std::string what = quote_untrusted(*service_id + "." + *action) + " on " + quote_untrusted(device->friendly_name);
    ctx_.actions.invoke(device->device_id, *service_id, *action, std::move(arguments),
                        completion([this, pending, what](const ActionResult& r) {
                          if (!r.ok) return respond_error(pending, what + " failed: " + failure_text(r));
                          rapidjson::Document data(rapidjson::kObjectType);
                          for (const auto& [name, value] : r.values) {
                            add(data, name, to_json(value, data.GetAllocator()), data.GetAllocator());
                          }
                          respond_ok(pending, data);
                        }));
  }

  // ---- device/configure (patent claim 2) ----

  void handle_configure(const JsonValue& request, const PendingPtr& pending) {
    FieldReader fields(request, "");
    auto device_name = fields.required_string("device");
    homep2p::Configure configure;
    if (auto n = fields.optional_uint("max_connections", 1, kMaxConnections)) {
      configure.max_connections = static_cast<std::uint32_t>(*n);
    }
    configure.auth_required = fields.optional_bool("auth_required");
    const JsonValue* accounts = fields.optional_array("accounts");
    if (fields.ok() && accounts) {
      if (accounts->Size() > homep2p::kMaxListLength) {
        fields.fail("accounts", "at most " + std::to_string(homep2p::kMaxListLength) + " entries");
      }
      for (rapidjson::SizeType i = 0; fields.ok() && i < accounts->Size(); ++i) {
        auto update = read_account((*accounts)[i], "accounts[" + std::to_string(i) + "]");
        if (!update) {
          fields.fail_with(update.error().message);
          break;
        }
        configure.accounts.push_back(std::move(*update));
      }
    }
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    if (!configure.max_connections && !configure.auth_required && configure.accounts.empty()) {
      return respond_error(pending,
                           "nothing to configure: give max_connections, auth_required or accounts");
    }
    DeviceRecord* device = resolve(*device_name, pending);
    if (!device) return;

    // The response shows what was asked for, minus every password.
    rapidjson::Document data = device_data(*device);
    auto& a = data.GetAllocator();
    if (configure.max_connections) add(data, "max_connections", JsonValue(*configure.max_connections), a);
    if (configure.auth_required) add(data, "auth_required", JsonValue(*configure.auth_required), a);
    JsonValue summary(rapidjson::kArrayType);
    for (const auto& update : configure.accounts) {
      JsonValue entry(rapidjson::kObjectType);
      add(entry, "user", update.user, a);
      add(entry, "role", homep2p::to_string(update.role), a);
      add(entry, "remove", JsonValue(update.remove), a);
      summary.PushBack(entry, a);
    }
    add(data, "accounts", std::move(summary), a);
    const std::string what = "configure " + quote_untrusted(device->friendly_name) + " failed: ";
    ctx_.actions.configure(
        device->device_id, std::move(configure),
        completion([this, pending, what,
                    data = std::make_shared<rapidjson::Document>(std::move(data))](const ActionResult& r) {
          if (!r.ok) return respond_error(pending, what + failure_text(r));
          respond_ok(pending, *data);
        }));
  }

  // One entry of "accounts". Errors name the entry and field, never the password's value.
  static homep2p::Result<homep2p::AccountUpdate> read_account(const JsonValue& v,
                                                              const std::string& where) {
    if (!v.IsObject()) return homep2p::make_error(homep2p::Errc::InvalidMessage, where + ": must be a JSON object");
    FieldReader fields(v, where);
    homep2p::AccountUpdate update;
    auto user = fields.required_string("user");
    const auto password = fields.optional_string("password", kMaxPasswordLength);
    const auto role = fields.optional_string("role", 16);
    update.remove = fields.optional_bool("remove").value_or(false);
    if (fields.ok() && user->size() > kMaxUserNameLength) {
      fields.fail("user", "at most " + std::to_string(kMaxUserNameLength) + " bytes");
    }
    if (fields.ok() && role) {
      auto parsed = homep2p::parse_account_role(*role);
      if (!parsed) fields.fail("role", "must be \"user\" or \"admin\"");
      if (parsed) update.role = *parsed;
    }
    if (fields.ok() && update.remove && password) fields.fail("password", "not allowed with remove");
    if (fields.ok() && !update.remove && (!password || password->empty())) {
      fields.fail("password", "required unless remove is true");
    }
    if (!fields.finish()) {
      return homep2p::make_error(homep2p::Errc::InvalidMessage, fields.error());
    }
    update.user = std::move(*user);
    update.password = password;
    return update;
  }

  // ---- device/rename ----

  void handle_rename(const JsonValue& request, const PendingPtr& pending) {
    FieldReader fields(request, "");
    auto device_name = fields.required_string("device");
    auto new_name = fields.required_string("name");
    // The registry checks the rest (topic level rules, uniqueness) and names the problem.
    if (fields.ok() && new_name->size() > homep2p::kMaxNameLength) {
      fields.fail("name", "at most " + std::to_string(homep2p::kMaxNameLength) + " bytes");
    }
    if (fields.ok() && !printable_utf8(*new_name)) {
      fields.fail("name", "must be valid UTF-8 without control characters");
    }
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    DeviceRecord* device = resolve(*device_name, pending);
    if (!device) return;
    const std::string device_id = device->device_id;
    const std::string old_name = device->friendly_name;
    if (auto error = ctx_.devices.rename(device_id, *new_name)) {
      return respond_error(pending, *error);
    }
    ctx_.bus.publish(DeviceRenamed{device_id, old_name});
    ctx_.bus.publish(DevicesChanged{});
    ctx_.actions.save_state();
    rapidjson::Document data(rapidjson::kObjectType);
    add(data, "device_id", device_id, data.GetAllocator());
    add(data, "from", old_name, data.GetAllocator());
    add(data, "to", *new_name, data.GetAllocator());
    respond_ok(pending, data);
  }

  // ---- device/remove ----

  void handle_remove(const JsonValue& request, const PendingPtr& pending) {
    FieldReader fields(request, "");
    auto device_name = fields.required_string("device");
    if (!fields.finish({"transaction"})) return respond_error(pending, fields.error());
    DeviceRecord* device = resolve(*device_name, pending);
    if (!device) return;
    device->wanted = false;  // even if removal races with a reconnect, nobody wants it back
    const std::string device_id = device->device_id;
    auto service_ids = std::make_shared<std::set<std::string>>();
    for (const auto& entry : device->services) service_ids->insert(entry.first);
    if (device->link == LinkState::Connected || device->link == LinkState::Connecting) {
      // Leave the device cleanly first; its services (captured above) lose their entities even
      // if the disconnect clears them from the record.
      ctx_.actions.disconnect(device_id, completion([this, pending, device_id,
                                                     service_ids](const ActionResult& r) {
        if (!r.ok) spdlog::warn("device/remove: disconnect failed ({}); removing anyway", failure_text(r));
        finish_remove(pending, device_id, *service_ids);
      }));
      return;
    }
    finish_remove(pending, device_id, *service_ids);
  }

  void finish_remove(const PendingPtr& pending, const std::string& device_id,
                     std::set<std::string> service_ids) {
    const DeviceRecord* device = ctx_.devices.find(device_id);
    std::string friendly_name = device_id;
    if (device) {
      friendly_name = device->friendly_name;
      for (const auto& entry : device->services) service_ids.insert(entry.first);
      ctx_.devices.remove(device_id);
      ctx_.bus.publish(DeviceRemoved{device_id, friendly_name,
                                     std::vector<std::string>(service_ids.begin(), service_ids.end())});
      ctx_.bus.publish(DevicesChanged{});
      ctx_.actions.save_state();
    }
    // Already gone (removed twice concurrently): the first removal published the events.
    rapidjson::Document data(rapidjson::kObjectType);
    add(data, "device", friendly_name, data.GetAllocator());
    add(data, "device_id", device_id, data.GetAllocator());
    respond_ok(pending, data);
  }

  Topics topics_;
  std::map<std::string, Handler> handlers_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace

std::unique_ptr<Extension> make_bridge_api_extension(BridgeContext& context) {
  return std::make_unique<BridgeApiExtension>(context);
}

}  // namespace peer2mqtt

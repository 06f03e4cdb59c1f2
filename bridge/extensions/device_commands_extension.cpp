// <device>/set (model: Zigbee2MQTT's lib/extension/publish.ts): JSON commands for one device.
//   {"connection":"connect"|"disconnect"}        the bridge's own connection (and `wanted`)
//   {"connect_to":"<B>"} / {"disconnect_from":"<B>"}  device-to-device, via its ConnectionManager
//   {"<service id>":{"<action>":{<arguments>}}}   invocations of rented services
// There is no response topic: what a command changes shows in the device's state topic (other
// extensions render it from the registry). A command that cannot run is reported as a
// non-retained bridge/event {"type":"command_failed","data":{"device","error"}} and logged.
// The whole payload is checked before anything runs, so a command with one bad key does nothing.
// Exact contract: docs/MQTT.md §3.
#include <rapidjson/document.h>
#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
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


std::string_view view(const JsonValue& v) { return {v.GetString(), v.GetStringLength()}; }

// One thing a payload asks for, checked and ready to run.
struct Command {
  enum class Kind { Connect, Disconnect, ConnectTo, DisconnectFrom, Invoke } kind;
  std::string other_id;    // ConnectTo / DisconnectFrom
  std::string other_name;  // for messages
  std::string service;     // Invoke
  std::string action;
  homep2p::ValueMap arguments;
};

class DeviceCommandsExtension : public Extension {
 public:
  explicit DeviceCommandsExtension(BridgeContext& context)
      : Extension(context), topics_(context.settings.base_topic, context.settings.homeassistant_prefix) {}

  ~DeviceCommandsExtension() override { alive_.reset(); }

  std::string name() const override { return "device_commands"; }

  void start() override {
    ctx_.mqtt.subscribe(topics_.device_set_filter());
    ctx_.bus.subscribe(name(), [this](const BridgeEvent& event) {
      if (const auto* received = std::get_if<MqttReceived>(&event)) on_message(*received);
    });
  }

 private:
  // "<base>/<name>/set" -> name; nullopt for any other topic (every MqttReceived reaches every
  // listener) and for the bridge's own "bridge" level, which is not a device.
  std::optional<std::string> device_name_of(const std::string& topic) const {
    const std::string prefix = topics_.base() + "/";
    const std::string suffix = "/set";
    if (topic.size() <= prefix.size() + suffix.size()) return std::nullopt;
    if (topic.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    if (topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) != 0) return std::nullopt;
    std::string name = topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
    if (name.find('/') != std::string::npos || name == "bridge") return std::nullopt;
    return name;
  }

  void on_message(const MqttReceived& message) {
    auto name = device_name_of(message.topic);
    if (!name) return;
    try {
      handle(*name, message.payload);
    } catch (const std::exception& e) {
      report(*name, nullptr, std::string("internal error: ") + e.what());
    } catch (...) {
      report(*name, nullptr, "internal error");
    }
  }

  void handle(const std::string& name, const std::string& payload) {
    DeviceRecord* device = ctx_.devices.resolve(name);
    if (!device) return report(name, nullptr, "unknown device " + quote_untrusted(name));
    rapidjson::Document doc;
    if (auto error = parse_command_payload(payload, doc)) return report(name, device, *error);
    if (!doc.IsObject()) return report(name, device, "payload: must be a JSON object");
    if (doc.MemberCount() == 0) return report(name, device, "payload: empty, nothing to do");

    std::vector<Command> commands;
    bool failed = false;
    for (const auto& member : doc.GetObject()) {
      auto error = read_command(*device, view(member.name), member.value, commands);
      if (error) {
        report(name, device, *error);
        failed = true;
      }
    }
    if (failed) return;  // all or nothing: never half of a command

    const std::string device_id = device->device_id;
    for (auto& command : commands) run(name, device_id, std::move(command));
  }

  // Checks one key of the payload; appends what it asks for to `out`, or returns the error.
  std::optional<std::string> read_command(const DeviceRecord& device, std::string_view key,
                                          const JsonValue& value, std::vector<Command>& out) {
    if (key == "connection") {
      const std::string_view v = value.IsString() ? view(value) : std::string_view();
      if (v == "connect") out.push_back(Command{Command::Kind::Connect, {}, {}, {}, {}, {}});
      else if (v == "disconnect") out.push_back(Command{Command::Kind::Disconnect, {}, {}, {}, {}, {}});
      else return std::string("connection: must be \"connect\" or \"disconnect\"");
      return std::nullopt;
    }
    if (key == "connect_to" || key == "disconnect_from") {
      const std::string field(key);
      if (!value.IsString() || value.GetStringLength() == 0) {
        return field + ": must be the name or id of another device";
      }
      const DeviceRecord* other = ctx_.devices.resolve(view(value));
      if (!other) return field + ": unknown device " + quote_untrusted(view(value));
      if (other->device_id == device.device_id) return field + ": a device cannot connect to itself";
      out.push_back(Command{key == "connect_to" ? Command::Kind::ConnectTo : Command::Kind::DisconnectFrom,
                            other->device_id, other->friendly_name, {}, {}, {}});
      return std::nullopt;
    }
    auto service = device.services.find(std::string(key));
    if (service == device.services.end()) {
      std::vector<std::string> rented;
      for (const auto& entry : device.services) rented.push_back(entry.first);
      return "unknown key " + quote_untrusted(key) +
             " (expected: connection, connect_to, disconnect_from or a rented service: " +
             (rented.empty() ? std::string("none; connect the device first") : join_names(rented)) + ")";
    }
    const std::string service_id = service->first;
    if (!value.IsObject() || value.MemberCount() == 0) {
      return service_id + ": must be an object {\"<action>\":{<arguments>}}";
    }
    std::vector<std::string> names;
    for (const auto& spec : service->second.actions) names.push_back(spec.name);
    for (const auto& action : value.GetObject()) {
      const std::string action_name(view(action.name));
      // The service's description names its actions; when it does, a typo fails here, clearly.
      if (!names.empty() && std::find(names.begin(), names.end(), action_name) == names.end()) {
        return service_id + ": unknown action " + quote_untrusted(action_name) + " (actions: " + join_names(names) + ")";
      }
      if (!action.value.IsObject()) {
        return service_id + "." + quote_untrusted(action_name) + ": arguments must be a JSON object ({} for none)";
      }
      Command command{Command::Kind::Invoke, {}, {}, service_id, action_name, {}};
      for (const auto& argument : action.value.GetObject()) {
        auto converted = argument_value(argument.value);
        if (!converted) {
          return service_id + "." + quote_untrusted(action_name) + "." + quote_untrusted(view(argument.name)) +
                 ": " + std::string(kArgumentValueRule);
        }
        command.arguments[std::string(view(argument.name))] = std::move(*converted);
      }
      out.push_back(std::move(command));
    }
    return std::nullopt;
  }

  void run(const std::string& name, const std::string& device_id, Command command) {
    // Failures come back later, on the bridge's thread; by then the extension may be gone.
    auto on_failure = [this, alive = std::weak_ptr<int>(alive_), name, device_id](std::string what) {
      return [this, alive, name, device_id, what = std::move(what)](const ActionResult& r) {
        if (alive.expired() || r.ok) return;
        report(name, ctx_.devices.find(device_id), what + " failed: " + failure_text(r));
      };
    };
    switch (command.kind) {
      case Command::Kind::Connect:
      case Command::Kind::Disconnect: {
        const bool connect = command.kind == Command::Kind::Connect;
        // What Home Assistant wants survives a restart: the bridge reconnects wanted devices.
        if (DeviceRecord* device = ctx_.devices.find(device_id)) device->wanted = connect;
        ctx_.actions.save_state();
        if (connect) {
          ctx_.actions.connect(device_id, on_failure("connect"));
        } else {
          ctx_.actions.disconnect(device_id, on_failure("disconnect"));
        }
        return;
      }
      case Command::Kind::ConnectTo:
        ctx_.actions.connect_between(device_id, command.other_id,
                                     on_failure("connect_to " + quote_untrusted(command.other_name)));
        return;
      case Command::Kind::DisconnectFrom:
        ctx_.actions.disconnect_between(device_id, command.other_id,
                                        on_failure("disconnect_from " + quote_untrusted(command.other_name)));
        return;
      case Command::Kind::Invoke: {
        std::string what = command.service + "." + command.action;
        ctx_.actions.invoke(device_id, command.service, command.action,
                            std::move(command.arguments), on_failure(std::move(what)));
        return;
      }
    }
  }

  // bridge/event {"type":"command_failed","data":{"device":<topic name>,"device_id"?,"error"}}.
  void report(const std::string& name, const DeviceRecord* device, const std::string& error) {
    spdlog::warn("{}/set: {}", quote_untrusted(name), error);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("type");
    writer.String("command_failed");
    writer.Key("data");
    writer.StartObject();
    writer.Key("device");
    writer.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    if (device) {
      writer.Key("device_id");
      writer.String(device->device_id.c_str(), static_cast<rapidjson::SizeType>(device->device_id.size()));
    }
    writer.Key("error");
    writer.String(error.c_str(), static_cast<rapidjson::SizeType>(error.size()));
    writer.EndObject();
    writer.EndObject();
    ctx_.mqtt.publish(MqttMessage{topics_.bridge_event(),
                                  std::string(buffer.GetString(), buffer.GetSize()), false, 1});
  }

  Topics topics_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace

std::unique_ptr<Extension> make_device_commands_extension(BridgeContext& context) {
  return std::make_unique<DeviceCommandsExtension>(context);
}

}  // namespace peer2mqtt

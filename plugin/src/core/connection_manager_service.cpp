#include "homep2p/connection_manager_service.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace homep2p {

namespace {

ActionOutcome run_or_fail(const std::function<ActionOutcome(const std::string&, const CallerIdentity&)>& action,
                          const ValueMap& args, const char* key, const CallerIdentity& caller) {
  const std::string& device = std::get<std::string>(args.at(key));
  if (!action) return ActionOutcome{ServiceResult::Failed, {}, {}, "not supported by this device"};
  return action(device, caller);
}

}  // namespace

ServiceDefinition make_connection_manager(ConnectionManagerActions actions) {
  ServiceDefinition s;
  s.description.id = std::string(kConnectionManagerId);
  s.description.type = std::string(kConnectionManagerType);
  s.description.state["count"] = std::int64_t{0};
  s.description.state["max"] = std::int64_t{0};
  s.description.state["peers"] = std::string("[]");
  s.description.actions = {
      ActionSpec{"Connect", {ArgumentSpec{"target", ValueType::String, std::nullopt, std::nullopt}}, true},
      ActionSpec{"Disconnect", {ArgumentSpec{"peer", ValueType::String, std::nullopt, std::nullopt}}, true},
  };
  s.handlers["Connect"] = [connect = std::move(actions.connect)](const ValueMap& args, const CallerIdentity& caller,
                                                                 TimePoint) {
    return run_or_fail(connect, args, "target", caller);
  };
  s.handlers["Disconnect"] = [disconnect = std::move(actions.disconnect)](
                                 const ValueMap& args, const CallerIdentity& caller, TimePoint) {
    return run_or_fail(disconnect, args, "peer", caller);
  };
  return s;
}

ValueMap connection_manager_state(const ConnectionTable& table,
                                  const std::function<std::int64_t(TimePoint)>& to_unix_seconds) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const PeerEntry& peer : table.peers()) {
    writer.StartObject();
    writer.Key("device_id");
    writer.String(peer.peer_id.c_str(), static_cast<rapidjson::SizeType>(peer.peer_id.size()));
    writer.Key("role");
    const std::string_view role = to_string(peer.role);
    writer.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
    writer.Key("since");
    writer.Int64(to_unix_seconds ? to_unix_seconds(peer.since) : 0);
    writer.EndObject();
  }
  writer.EndArray();
  ValueMap state;
  state["count"] = static_cast<std::int64_t>(table.count());
  state["max"] = static_cast<std::int64_t>(table.max());
  state["peers"] = std::string(buffer.GetString(), buffer.GetSize());
  return state;
}

Result<std::vector<ConnectionManagerPeer>> parse_connection_manager_peers(std::string_view json) {
  rapidjson::Document doc;
  // Iterative: the text comes from a peer (a ServiceEvent string of up to 64 KiB), and RapidJSON's
  // recursive parser overflows the stack on deep nesting ("[[[[..."; found by fuzz_message).
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return make_error(Errc::InvalidMessage, "ConnectionManager.peers: expected a JSON array");
  }
  std::vector<ConnectionManagerPeer> peers;
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject() || !item.HasMember("device_id") || !item["device_id"].IsString() ||
        !item.HasMember("role") || !item["role"].IsString()) {
      return make_error(Errc::InvalidMessage, "ConnectionManager.peers: each entry needs device_id and role");
    }
    const auto role = parse_role(item["role"].GetString());
    if (!role) return make_error(Errc::InvalidMessage, "ConnectionManager.peers: role must be initiator or target");
    ConnectionManagerPeer p;
    p.device_id = item["device_id"].GetString();
    p.role = *role;
    if (item.HasMember("since") && item["since"].IsInt64()) p.since = item["since"].GetInt64();
    peers.push_back(std::move(p));
  }
  return peers;
}

}  // namespace homep2p

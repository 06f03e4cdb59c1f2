// Everything a device's ConnectionTarget instances share: who may connect (accounts, whether
// authentication is required), how many (the connection table and its max), the back-off after
// failures, and the bound on half-open handshakes. One per device; it outlives its targets.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "homep2p/account_store.hpp"
#include "homep2p/connection_settings.hpp"
#include "homep2p/connection_table.hpp"
#include "homep2p/failure_backoff.hpp"
#include "homep2p/messages.hpp"

namespace homep2p {

// Who is on the other end of an established connection (for service calls and Configure).
struct CallerIdentity {
  ConnectionId connection_id = 0;
  std::string peer_id;
  std::string user;
  AccountRole role = AccountRole::User;
  bool authenticated = false;  // false on a connection to a device without authentication
};

class ConnectionAdmission {
 public:
  ConnectionAdmission(std::string device_id, bool auth_required, AccountStore accounts,
                      ConnectionTable& table, ConnectionSettings settings = {});

  const std::string& device_id() const { return device_id_; }
  bool auth_required() const { return auth_required_; }
  void set_auth_required(bool required) { auth_required_ = required; }
  AccountStore& accounts() { return accounts_; }
  const AccountStore& accounts() const { return accounts_; }
  ConnectionTable& table() { return table_; }
  const ConnectionTable& table() const { return table_; }
  FailureBackoff& backoff() { return backoff_; }
  const ConnectionSettings& settings() const { return settings_; }

  // Half-open handshakes (challenge sent, reply not yet checked), bounded in total
  // (max_pending_handshakes) and per peer address (max_pending_per_address). Pair each
  // successful try_begin_pending(address) with end_pending(address); an end without a begin
  // from that address changes nothing.
  bool try_begin_pending(std::string_view address);
  void end_pending(std::string_view address);
  std::size_t pending() const { return pending_; }
  std::size_t pending_from(std::string_view address) const;

  // Remote configuration (patent claim 2). Only an authenticated admin may configure.
  // Passwords in the request are turned into K at once and not kept.
  ConfigureResponse apply(const Configure& request, const CallerIdentity& caller);

 private:
  std::string device_id_;
  bool auth_required_;
  AccountStore accounts_;
  ConnectionTable& table_;
  ConnectionSettings settings_;
  FailureBackoff backoff_;
  std::size_t pending_ = 0;  // the sum of pending_by_address_
  std::map<std::string, std::size_t, std::less<>> pending_by_address_;  // no zero entries
};

}  // namespace homep2p

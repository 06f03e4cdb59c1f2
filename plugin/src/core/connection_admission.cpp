#include "homep2p/connection_admission.hpp"

#include "homep2p/crypto.hpp"

namespace homep2p {

ConnectionAdmission::ConnectionAdmission(std::string device_id, bool auth_required, AccountStore accounts,
                                         ConnectionTable& table, ConnectionSettings settings)
    : device_id_(std::move(device_id)),
      auth_required_(auth_required),
      accounts_(std::move(accounts)),
      table_(table),
      settings_(settings),
      backoff_(settings.backoff) {}

bool ConnectionAdmission::try_begin_pending(std::string_view address) {
  const auto it = pending_by_address_.find(address);
  const std::size_t from_address = it == pending_by_address_.end() ? 0 : it->second;
  if (pending_ >= settings_.max_pending_handshakes || from_address >= settings_.max_pending_per_address) return false;
  ++pending_;
  if (it == pending_by_address_.end()) {
    pending_by_address_.emplace(std::string(address), 1);
  } else {
    ++it->second;
  }
  return true;
}

void ConnectionAdmission::end_pending(std::string_view address) {
  const auto it = pending_by_address_.find(address);
  if (it == pending_by_address_.end()) return;  // never below zero
  --pending_;
  if (--it->second == 0) pending_by_address_.erase(it);
}

std::size_t ConnectionAdmission::pending_from(std::string_view address) const {
  const auto it = pending_by_address_.find(address);
  return it == pending_by_address_.end() ? 0 : it->second;
}

namespace {

ConfigureResponse refuse(const Configure& request, ServiceResult result, std::string error) {
  ConfigureResponse r;
  r.request_id = request.request_id;
  r.result = result;
  r.error = std::move(error);
  return r;
}

}  // namespace

ConfigureResponse ConnectionAdmission::apply(const Configure& request, const CallerIdentity& caller) {
  if (!caller.authenticated || caller.role != AccountRole::Admin) {
    return refuse(request, ServiceResult::Denied, "Configure needs an authenticated admin account");
  }
  if (request.max_connections && (*request.max_connections < 1 || *request.max_connections > 65535)) {
    return refuse(request, ServiceResult::BadArguments, "max_connections must be 1..65535");
  }
  // Validate everything before changing anything: a request applies whole or not at all.
  for (const auto& update : request.accounts) {
    if (update.user.empty() || update.user.size() > kMaxUserNameLength) {
      return refuse(request, ServiceResult::BadArguments, "account user name must be 1..32 characters");
    }
    if (!update.remove && (!update.password || update.password->empty())) {
      return refuse(request, ServiceResult::BadArguments, "account '" + update.user + "' needs a password");
    }
    if (update.remove && update.user == caller.user) {
      return refuse(request, ServiceResult::BadArguments, "an admin cannot remove its own account");
    }
  }
  for (const auto& update : request.accounts) {
    if (update.remove) {
      accounts_.remove(update.user);
    } else {
      accounts_.put(Account{update.user, derive_share_key(*update.password, update.user), update.role});
      backoff_.record_success("user:" + update.user);  // new credentials: forget earlier failures (key as in connection_target.cpp)
    }
  }
  if (request.max_connections) table_.set_max(*request.max_connections);
  if (request.auth_required) auth_required_ = *request.auth_required;
  ConfigureResponse r;
  r.request_id = request.request_id;
  r.result = ServiceResult::Ok;
  return r;
}

}  // namespace homep2p

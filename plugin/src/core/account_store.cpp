#include "homep2p/account_store.hpp"

#include <utility>

namespace homep2p {

void AccountStore::put(Account account) {
  std::string user = account.user;
  accounts_.insert_or_assign(std::move(user), std::move(account));
}

bool AccountStore::remove(std::string_view user) {
  auto it = accounts_.find(user);
  if (it == accounts_.end()) return false;
  accounts_.erase(it);
  return true;
}

const Account* AccountStore::find(std::string_view user) const {
  auto it = accounts_.find(user);
  return it == accounts_.end() ? nullptr : &it->second;
}

std::vector<std::string> AccountStore::users() const {
  std::vector<std::string> out;
  out.reserve(accounts_.size());
  for (const auto& [user, account] : accounts_) out.push_back(user);
  return out;
}

}  // namespace homep2p

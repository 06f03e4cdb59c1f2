// The accounts a device accepts (patent: "account information containing a user name and a
// password"). Only K (see crypto.hpp) is kept, never the password.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "homep2p/crypto.hpp"
#include "homep2p/messages.hpp"

namespace homep2p {

struct Account {
  std::string user;
  ShareKey key{};
  AccountRole role = AccountRole::User;
};

class AccountStore {
 public:
  void put(Account account);               // adds or replaces
  bool remove(std::string_view user);      // false if unknown
  const Account* find(std::string_view user) const;
  std::size_t size() const { return accounts_.size(); }
  std::vector<std::string> users() const;

 private:
  std::map<std::string, Account, std::less<>> accounts_;
};

}  // namespace homep2p

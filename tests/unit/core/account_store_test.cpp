#include "homep2p/account_store.hpp"

#include <gtest/gtest.h>

namespace homep2p {
namespace {

Account account(std::string user, std::uint8_t key_byte, AccountRole role = AccountRole::User) {
  Account a;
  a.user = std::move(user);
  a.key.fill(key_byte);
  a.role = role;
  return a;
}

TEST(AccountStore, StartsEmpty) {
  AccountStore store;
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.users().empty());
  EXPECT_EQ(store.find("alice"), nullptr);
}

TEST(AccountStore, PutAddsAnAccountThatFindReturns) {
  AccountStore store;
  store.put(account("alice", 0x11, AccountRole::Admin));
  ASSERT_EQ(store.size(), 1u);
  const Account* found = store.find("alice");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->user, "alice");
  EXPECT_EQ(found->key[0], 0x11);
  EXPECT_EQ(found->role, AccountRole::Admin);
}

TEST(AccountStore, PutWithAnExistingUserReplacesKeyAndRole) {
  AccountStore store;
  store.put(account("alice", 0x11, AccountRole::Admin));
  store.put(account("alice", 0x22, AccountRole::User));
  ASSERT_EQ(store.size(), 1u);
  EXPECT_EQ(store.find("alice")->key[0], 0x22);
  EXPECT_EQ(store.find("alice")->role, AccountRole::User);
}

TEST(AccountStore, UserNamesAreCaseSensitive) {
  AccountStore store;
  store.put(account("alice", 0x11));
  EXPECT_EQ(store.find("Alice"), nullptr);
}

TEST(AccountStore, RemoveReportsWhetherTheUserExisted) {
  AccountStore store;
  store.put(account("alice", 0x11));
  store.put(account("bob", 0x22));
  EXPECT_FALSE(store.remove("carol"));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.remove("alice"));
  EXPECT_EQ(store.find("alice"), nullptr);
  EXPECT_NE(store.find("bob"), nullptr);
  EXPECT_FALSE(store.remove("alice"));
}

TEST(AccountStore, UsersListsEveryUserInNameOrder) {
  AccountStore store;
  store.put(account("carol", 1));
  store.put(account("alice", 2));
  store.put(account("bob", 3));
  EXPECT_EQ(store.users(), (std::vector<std::string>{"alice", "bob", "carol"}));
}

}  // namespace
}  // namespace homep2p

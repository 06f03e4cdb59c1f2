// Remote configuration through an admin account (patent claim 2) and the pending bound.
#include "homep2p/connection_admission.hpp"

#include <gtest/gtest.h>

#include "connection_harness.hpp"

namespace homep2p::test {
namespace {

CallerIdentity admin_caller() { return CallerIdentity{1, kIdA, "root", AccountRole::Admin, true}; }

TEST(ConnectionAdmission, Claim2_AdminChangesMaxConnectionsAndAccounts) {
  DevicePair pair;
  Configure request;
  request.request_id = 9;
  request.max_connections = 1;
  request.accounts.push_back(AccountUpdate{"carol", std::string("carol-password"), AccountRole::User, false});
  const ConfigureResponse r = pair.admission_b.apply(request, admin_caller());
  EXPECT_EQ(r.result, ServiceResult::Ok) << r.error;
  EXPECT_EQ(r.request_id, 9U);
  EXPECT_EQ(pair.table_b.max(), 1U);
  ASSERT_NE(pair.admission_b.accounts().find("carol"), nullptr);
  // The new account can connect with its password.
  pair.connect("carol", derive_share_key("carol-password", "carol"));
  EXPECT_NE(find_event<Connected>(pair.a_events), nullptr);
}

TEST(ConnectionAdmission, Claim2_RemovedAccountCanNoLongerConnect) {
  DevicePair pair;
  Configure request;
  request.accounts.push_back(AccountUpdate{"alice", std::nullopt, AccountRole::User, true});
  EXPECT_EQ(pair.admission_b.apply(request, admin_caller()).result, ServiceResult::Ok);
  pair.connect();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
}

TEST(ConnectionAdmission, NewCredentialsClearTheUsersBackoff) {
  DevicePair pair;
  const ShareKey wrong = derive_share_key("guess", "alice");
  for (unsigned i = 0; i < pair.settings.backoff.free_failures; ++i) {
    pair.connect("alice", wrong);
    pair.clear_events();
  }
  ASSERT_TRUE(pair.admission_b.backoff().blocked("user:alice", pair.now));
  Configure request;
  request.accounts.push_back(AccountUpdate{"alice", std::string("new-password"), AccountRole::User, false});
  ASSERT_EQ(pair.admission_b.apply(request, admin_caller()).result, ServiceResult::Ok);
  EXPECT_FALSE(pair.admission_b.backoff().blocked("user:alice", pair.now));
  pair.connect("alice", derive_share_key("new-password", "alice"));
  EXPECT_NE(find_event<Connected>(pair.a_events), nullptr);
}

TEST(ConnectionAdmission, NonAdminIsDeniedAndNothingChanges) {
  DevicePair pair;
  Configure request;
  request.max_connections = 1;
  const auto r = pair.admission_b.apply(request, CallerIdentity{1, kIdA, "alice", AccountRole::User, true});
  EXPECT_EQ(r.result, ServiceResult::Denied);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(pair.table_b.max(), 4U);
}

TEST(ConnectionAdmission, UnauthenticatedAdminNameIsDenied) {
  DevicePair pair;
  Configure request;
  request.auth_required = false;
  const auto r = pair.admission_b.apply(request, CallerIdentity{1, kIdA, "root", AccountRole::Admin, false});
  EXPECT_EQ(r.result, ServiceResult::Denied);
  EXPECT_TRUE(pair.admission_b.auth_required());
}

TEST(ConnectionAdmission, InvalidRequestChangesNothing) {
  DevicePair pair;
  Configure request;
  request.max_connections = 2;
  request.accounts.push_back(AccountUpdate{"dave", std::nullopt, AccountRole::User, false});  // no password
  const auto r = pair.admission_b.apply(request, admin_caller());
  EXPECT_EQ(r.result, ServiceResult::BadArguments);
  EXPECT_NE(r.error.find("dave"), std::string::npos);
  EXPECT_EQ(pair.table_b.max(), 4U);
  EXPECT_EQ(pair.admission_b.accounts().find("dave"), nullptr);
}

TEST(ConnectionAdmission, AnAdminCannotRemoveItsOwnAccount) {
  DevicePair pair;
  Configure request;
  request.accounts.push_back(AccountUpdate{"root", std::nullopt, AccountRole::Admin, true});
  EXPECT_EQ(pair.admission_b.apply(request, admin_caller()).result, ServiceResult::BadArguments);
  EXPECT_NE(pair.admission_b.accounts().find("root"), nullptr);
}

TEST(ConnectionAdmission, PendingHandshakesAreBounded) {
  ConnectionTable table(4);
  ConnectionSettings settings;
  settings.max_pending_handshakes = 2;
  ConnectionAdmission admission(kIdB, true, {}, table, settings);
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.1"));
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.2"));
  EXPECT_FALSE(admission.try_begin_pending("10.0.0.3"));
  admission.end_pending("10.0.0.1");
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.3"));
  admission.end_pending("10.0.0.2");
  admission.end_pending("10.0.0.3");
  admission.end_pending("10.0.0.3");  // never below zero
  EXPECT_EQ(admission.pending(), 0U);
}

// Issue 6 (docs/RELIABILITY.md): 1,000 half-open ConnectRequests from one host took all 64
// pending slots, and every other initiator got OVERLOAD until they timed out.
TEST(ConnectionAdmission, PendingHandshakesAreAlsoBoundedPerAddress) {
  ConnectionTable table(4);
  ConnectionSettings settings;
  settings.max_pending_handshakes = 5;
  settings.max_pending_per_address = 2;
  ConnectionAdmission admission(kIdB, true, {}, table, settings);
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.9"));
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.9"));
  EXPECT_FALSE(admission.try_begin_pending("10.0.0.9")) << "a third from the same address";
  EXPECT_EQ(admission.pending(), 2U) << "a refusal takes no slot";
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.7"));
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.7"));
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.5"));
  EXPECT_FALSE(admission.try_begin_pending("10.0.0.4")) << "the global bound still holds";
  admission.end_pending("10.0.0.9");
  EXPECT_EQ(admission.pending_from("10.0.0.9"), 1U);
  EXPECT_TRUE(admission.try_begin_pending("10.0.0.9"));
  for (const char* a : {"10.0.0.9", "10.0.0.9", "10.0.0.7", "10.0.0.7", "10.0.0.5"}) admission.end_pending(a);
  EXPECT_EQ(admission.pending(), 0U);
  EXPECT_EQ(admission.pending_from("10.0.0.9"), 0U);
}

}  // namespace
}  // namespace homep2p::test

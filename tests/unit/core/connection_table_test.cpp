#include "homep2p/connection_table.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace homep2p::test {
namespace {

TEST(ConnectionTable, AddsUpToTheMaxAndRefusesBeyond) {
  ConnectionTable table(2);
  EXPECT_TRUE(table.try_add("a", Role::Initiator, kT0));
  EXPECT_TRUE(table.try_add("b", Role::Target, kT0));
  EXPECT_TRUE(table.full());
  EXPECT_FALSE(table.try_add("c", Role::Target, kT0));
  EXPECT_EQ(table.count(), 2U);
}

TEST(ConnectionTable, RemoveIsIdempotentAndNeverGoesBelowZero) {
  ConnectionTable table(2);
  const auto id = table.try_add("a", Role::Initiator, kT0);
  ASSERT_TRUE(id);
  EXPECT_TRUE(table.remove(*id));
  EXPECT_FALSE(table.remove(*id));
  EXPECT_EQ(table.count(), 0U);
}

TEST(ConnectionTable, IdsAreNotReused) {
  ConnectionTable table(1);
  const auto first = table.try_add("a", Role::Initiator, kT0);
  ASSERT_TRUE(first);
  table.remove(*first);
  const auto second = table.try_add("a", Role::Initiator, kT0);
  ASSERT_TRUE(second);
  EXPECT_NE(*first, *second);
  EXPECT_FALSE(table.remove(*first));  // a stale id does not remove the new connection
  EXPECT_EQ(table.count(), 1U);
}

TEST(ConnectionTable, LoweringTheMaxKeepsExistingConnectionsAndRefusesNewOnes) {
  ConnectionTable table(3);
  ASSERT_TRUE(table.try_add("a", Role::Initiator, kT0));
  ASSERT_TRUE(table.try_add("b", Role::Initiator, kT0));
  table.set_max(1);
  EXPECT_EQ(table.count(), 2U);
  EXPECT_FALSE(table.try_add("c", Role::Initiator, kT0));
}

TEST(ConnectionTable, FindReturnsThePeerEntry) {
  ConnectionTable table(3);
  const auto id = table.try_add("peer", Role::Target, kT0 + seconds(5));
  ASSERT_TRUE(id);
  const PeerEntry* e = table.find(*id);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->peer_id, "peer");
  EXPECT_EQ(e->role, Role::Target);
  EXPECT_EQ(e->since, kT0 + seconds(5));
  EXPECT_EQ(table.find(*id + 100), nullptr);
}

}  // namespace
}  // namespace homep2p::test

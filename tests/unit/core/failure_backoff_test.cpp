#include "homep2p/failure_backoff.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace homep2p::test {
namespace {

TEST(FailureBackoff, FreeFailuresDoNotBlock) {
  FailureBackoff backoff(BackoffPolicy{3, seconds(1), seconds(60), 16});
  backoff.record_failure("user:alice", kT0);
  backoff.record_failure("user:alice", kT0);
  EXPECT_FALSE(backoff.blocked("user:alice", kT0));
}

TEST(FailureBackoff, BlocksAfterFreeFailuresAndTheDelayDoublesUpToTheCap) {
  FailureBackoff backoff(BackoffPolicy{3, seconds(1), seconds(8), 16});
  for (int i = 0; i < 3; ++i) backoff.record_failure("k", kT0);
  EXPECT_TRUE(backoff.blocked("k", kT0));
  EXPECT_EQ(backoff.blocked_until("k"), kT0 + seconds(1));
  EXPECT_FALSE(backoff.blocked("k", kT0 + seconds(1)));
  backoff.record_failure("k", kT0);
  EXPECT_EQ(backoff.blocked_until("k"), kT0 + seconds(2));
  for (int i = 0; i < 20; ++i) backoff.record_failure("k", kT0);
  EXPECT_EQ(backoff.blocked_until("k"), kT0 + seconds(8));
}

TEST(FailureBackoff, SuccessClearsTheKey) {
  FailureBackoff backoff(BackoffPolicy{1, seconds(1), seconds(8), 16});
  backoff.record_failure("k", kT0);
  ASSERT_TRUE(backoff.blocked("k", kT0));
  backoff.record_success("k");
  EXPECT_FALSE(backoff.blocked("k", kT0));
  EXPECT_EQ(backoff.size(), 0U);
}

TEST(FailureBackoff, KeysAreIndependent) {
  FailureBackoff backoff(BackoffPolicy{1, seconds(1), seconds(8), 16});
  backoff.record_failure("user:alice", kT0);
  EXPECT_TRUE(backoff.blocked("user:alice", kT0));
  EXPECT_FALSE(backoff.blocked("user:bob", kT0));
}

TEST(FailureBackoff, MemoryIsBoundedByEvictingTheOldestEntry) {
  FailureBackoff backoff(BackoffPolicy{1, seconds(1), seconds(8), 4});
  for (int i = 0; i < 100; ++i) backoff.record_failure("addr:" + std::to_string(i), kT0 + seconds(i));
  EXPECT_EQ(backoff.size(), 4U);
  EXPECT_TRUE(backoff.blocked("addr:99", kT0 + seconds(99)));
  EXPECT_FALSE(backoff.blocked("addr:0", kT0));
}

}  // namespace
}  // namespace homep2p::test

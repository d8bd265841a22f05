// SecretUsage (issue15:secrets): the last use of each client secret per IP, drained in
// batches; the retiring-secret audit decision coalesced per (secret, IP) per minute; and the
// bounds that keep a flood from growing memory.
#include "monitor/secret_usage.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace stagepass {
namespace {

using Seen = std::map<std::pair<int64_t, std::string>, int64_t>;

Seen as_map(const std::vector<ClientSecretUse>& uses) {
  Seen out;
  for (const auto& u : uses) out[{u.secret_id, u.ip}] = u.at;
  return out;
}

std::string ip_of(int i) {
  return "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

TEST(SecretUsage, KeepsTheLatestUsePerSecretAndIpAndDrainForgets) {
  SecretUsage usage;
  usage.note(1, "10.0.0.1", 100, false);
  usage.note(1, "10.0.0.1", 105, false);
  usage.note(1, "10.0.0.1", 103, false);  // out of order: the latest wins
  usage.note(1, "10.0.0.2", 101, false);
  usage.note(2, "10.0.0.1", 50, true);
  EXPECT_EQ(as_map(usage.drain()),
            (Seen{{{1, "10.0.0.1"}, 105}, {{1, "10.0.0.2"}, 101}, {{2, "10.0.0.1"}, 50}}));
  EXPECT_TRUE(usage.drain().empty());
}

TEST(SecretUsage, RestoreMergesWithNewerUses) {
  SecretUsage usage;
  usage.note(1, "10.0.0.1", 10, false);
  auto failed = usage.drain();
  usage.note(1, "10.0.0.1", 20, false);
  usage.restore(failed);
  EXPECT_EQ(as_map(usage.drain()), (Seen{{{1, "10.0.0.1"}, 20}}));
}

// A busy backend still on the retiring secret: one audit event per (secret, IP) per minute.
TEST(SecretUsage, RetiringUsesAreAuditedOncePerSecretAndIpPerMinute) {
  SecretUsage usage;
  EXPECT_FALSE(usage.note(1, "10.0.0.1", 1000, false));  // the current secret: never audited
  EXPECT_TRUE(usage.note(2, "10.0.0.1", 1000, true));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(usage.note(2, "10.0.0.1", 1000 + i % 60, true));
  EXPECT_TRUE(usage.note(2, "10.0.0.2", 1010, true));  // another IP
  EXPECT_TRUE(usage.note(3, "10.0.0.1", 1010, true));  // another retiring secret
  EXPECT_FALSE(usage.note(2, "10.0.0.1", 1059, true));
  EXPECT_TRUE(usage.note(2, "10.0.0.1", 1060, true));  // a minute after the last event
  EXPECT_FALSE(usage.note(2, "10.0.0.1", 1061, true));
  EXPECT_EQ(usage.suppressed(), 0u);
}

// Far more IPs than the pair table holds: memory stays bounded, and the secret's last use is
// still reported (under an empty IP) for the uses whose IP did not fit.
TEST(SecretUsage, PairsAreBoundedAndTheSecretsLastUseSurvivesOverflow) {
  SecretUsage usage;
  const int kIps = static_cast<int>(SecretUsage::kShards * SecretUsage::kMaxPairsPerShard) * 2;
  for (int i = 0; i < kIps; ++i) usage.note(7, ip_of(i), 100 + i / 1000, false);
  usage.note(7, "203.0.113.9", 500, false);  // the latest use, likely past the bound too
  auto uses = usage.drain();
  // Each shard holds its pairs plus at most one fallback entry per secret.
  EXPECT_LE(uses.size(), SecretUsage::kShards * (SecretUsage::kMaxPairsPerShard + 1));
  EXPECT_GE(uses.size(), SecretUsage::kShards * SecretUsage::kMaxPairsPerShard / 2);
  int64_t latest = 0;
  bool fallback = false;
  for (const auto& u : uses) {
    EXPECT_EQ(u.secret_id, 7);
    latest = std::max(latest, u.at);
    fallback = fallback || u.ip.empty();
  }
  EXPECT_TRUE(fallback);
  EXPECT_EQ(latest, 500);
  EXPECT_TRUE(usage.drain().empty());
}

// A flood of distinct IPs on a retiring secret within a minute: events stop at the bound
// (counted as suppressed) instead of growing the table; a minute later they resume.
TEST(SecretUsage, AuditKeysAreBoundedAndExpireAfterTheWindow) {
  SecretUsage usage;
  const int kIps = static_cast<int>(SecretUsage::kShards * SecretUsage::kMaxAuditKeysPerShard) * 2;
  int audited = 0;
  for (int i = 0; i < kIps; ++i) audited += usage.note(9, ip_of(i), 2000, true);
  EXPECT_LE(audited, static_cast<int>(SecretUsage::kShards * SecretUsage::kMaxAuditKeysPerShard));
  EXPECT_GT(usage.suppressed(), 0u);
  EXPECT_EQ(static_cast<uint64_t>(audited) + usage.suppressed(), static_cast<uint64_t>(kIps));
  // Once the window has passed, the table sweeps itself and a new IP is audited again.
  EXPECT_TRUE(usage.note(9, "198.51.100.1", 2000 + SecretUsage::kAuditWindowSeconds, true));
}

}  // namespace
}  // namespace stagepass

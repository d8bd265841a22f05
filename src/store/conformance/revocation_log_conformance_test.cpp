// Store conformance, RevocationLog (issue16:revlog): every revoking change appends its entry
// to the revocations log in its own transaction, with strictly increasing sequence numbers and
// the right kind; a change that writes nothing appends nothing. Runs against every backend
// (store_backends.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class RevocationLogConformance : public StoreConformance {
 protected:
  std::vector<RevocationEntry> log_after(int64_t seq) {
    auto r = store_->revocations_after(seq, 1000);
    EXPECT_TRUE(r.ok());
    return r ? *r : std::vector<RevocationEntry>{};
  }
  static std::vector<std::string> kinds(const std::vector<RevocationEntry>& es) {
    std::vector<std::string> out;
    for (const auto& e : es) out.push_back(e.kind + ":" + e.id);
    return out;
  }
};

TEST_P(RevocationLogConformance, EachRevokingChangeAppendsItsEntry) {
  EXPECT_EQ(store_->revocation_start(0, 1000)->first, 0);  // an empty log
  EXPECT_EQ(store_->revocation_start(0, 1000)->settled, 0);
  ASSERT_TRUE(*store_->revoke_grant("g1", 150));
  ASSERT_FALSE(*store_->revoke_grant("g1", 151));  // no change, no entry
  ASSERT_TRUE(*store_->revoke_access_token("j1", "c1", 5000, 160));
  ASSERT_FALSE(*store_->revoke_access_token("j1", "c1", 5000, 161));
  ASSERT_TRUE(store_->create_client(app("c2")).ok());
  ASSERT_TRUE(store_->rotate_client_secret("c2", "hash2", 300, 0).ok());    // a hard cut
  ASSERT_TRUE(store_->rotate_client_secret("c2", "hash3", 310, 600).ok());  // with grace: none
  ASSERT_TRUE(store_->set_client_suspension("c2", 400, "review", 10).ok());
  ASSERT_TRUE(store_->record_consent("u1", "c2", ScopeSet::parse("streaming"), "g2", 450).ok());
  ASSERT_TRUE(store_->delete_client("c2", 500).ok());

  auto log = log_after(0);
  EXPECT_EQ(kinds(log), (std::vector<std::string>{"grant:g1", "token:j1", "cut:c2", "suspension:c2",
                                                  "cut:c2", "grant:g2", "client:c2"}));
  for (size_t i = 1; i < log.size(); ++i) EXPECT_LT(log[i - 1].seq, log[i].seq);
  ASSERT_EQ(log.size(), 7u);
  EXPECT_EQ(log[0].client_id, "c1");
  EXPECT_EQ(log[0].at, 150);
  EXPECT_EQ(log[1].client_id, "c1");
  EXPECT_EQ(log[1].at, 160);
  EXPECT_GE(log[2].at, 300);
  EXPECT_EQ(log[3].at, 400);
  EXPECT_GE(log[4].at, 410);  // suspended at 400, slack 10
  EXPECT_EQ(log[5].client_id, "c2");
  EXPECT_EQ(log[5].at, 500);
  EXPECT_EQ(log[6].client_id, "c2");
  EXPECT_EQ(log[6].at, 500);
  // Read on from any point, in pages.
  EXPECT_EQ(kinds(log_after(log[4].seq)), (std::vector<std::string>{"grant:g2", "client:c2"}));
  EXPECT_EQ(store_->revocations_after(0, 2)->size(), 2u);
}

// A change that fails writes nothing, its log entry included.
TEST_P(RevocationLogConformance, AFailedChangeAppendsNothing) {
  EXPECT_FALSE(store_->set_client_suspension("no-such-app", 400, "review", 10).ok());
  EXPECT_FALSE(store_->delete_client("no-such-app", 400).ok());
  EXPECT_FALSE(store_->rotate_client_secret("no-such-app", "h", 400, 0).ok());
  EXPECT_TRUE(log_after(0).empty());
}

// Where a starting node begins: it loads from the first entry of its retention window up to
// the last entry older than the lookback (settled), and reads on from there.
TEST_P(RevocationLogConformance, StartIsTheFirstEntryOfTheWindowAndTheLastSettledOne) {
  ASSERT_TRUE(*store_->revoke_access_token("j1", "c1", 5000, 100));
  ASSERT_TRUE(*store_->revoke_access_token("j2", "c1", 5000, 200));
  ASSERT_TRUE(*store_->revoke_access_token("j3", "c1", 5000, 300));
  auto log = log_after(0);
  ASSERT_EQ(log.size(), 3u);
  auto start = store_->revocation_start(150, 250);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->first, log[1].seq - 1);
  EXPECT_EQ(start->settled, log[1].seq);
  start = store_->revocation_start(301, 1000);  // nothing that recent: the end
  EXPECT_EQ(start->first, log[2].seq);
  EXPECT_EQ(start->settled, log[2].seq);
  start = store_->revocation_start(0, 50);  // nothing settled yet: every number may be in flight
  EXPECT_EQ(start->first, log[0].seq - 1);
  EXPECT_EQ(start->settled, 0);
}

// The holes a reader re-reads: only those that exist are returned.
TEST_P(RevocationLogConformance, ReadsTheEntriesAskedFor) {
  ASSERT_TRUE(*store_->revoke_access_token("j1", "c1", 5000, 100));
  ASSERT_TRUE(*store_->revoke_access_token("j2", "c1", 5000, 200));
  auto log = log_after(0);
  ASSERT_EQ(log.size(), 2u);
  auto some = store_->revocations_in({log[1].seq, log[1].seq + 100});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(kinds(*some), (std::vector<std::string>{"token:j2"}));
  EXPECT_TRUE(store_->revocations_in({})->empty());
}

// Pruning deletes the oldest entries before a time, at most `limit` per call, never the
// newest one before that time (a starting node's `settled`: no pruned number becomes a hole);
// sequence numbers are not reused after it.
TEST_P(RevocationLogConformance, PruningIsBoundedAndKeepsTheSequence) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(*store_->revoke_access_token("j" + std::to_string(i), "c1", 5000, 100 + i));
  }
  ASSERT_TRUE(*store_->revoke_access_token("late", "c1", 5000, 900));
  const int64_t highest = log_after(0).back().seq;
  EXPECT_EQ(*store_->prune_revocations(500, 2), 2);
  EXPECT_EQ(*store_->prune_revocations(500, 2), 1);
  EXPECT_EQ(*store_->prune_revocations(500, 2), 0);
  EXPECT_EQ(kinds(log_after(0)), (std::vector<std::string>{"token:j3", "token:late"}));
  EXPECT_EQ(store_->revocation_start(600, 600)->settled, log_after(0).front().seq);
  EXPECT_EQ(*store_->prune_revocations(1000, 10), 1);
  EXPECT_EQ(*store_->prune_revocations(1000, 10), 0);  // the newest stays: the log's end
  EXPECT_EQ(store_->revocation_start(1000, 1000)->settled, highest);
  ASSERT_TRUE(*store_->revoke_access_token("next", "c1", 5000, 1000));
  EXPECT_GT(log_after(0).back().seq, highest);
}

STAGEPASS_CONFORMANCE_SUITE(RevocationLogConformance, kClients | kGrants | kRevocationLog);

}  // namespace
}  // namespace stagepass::conformance

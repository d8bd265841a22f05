// RevocationFeed's reading of the revocations log by sequence (issue16:revlog), over an
// in-memory log whose commits the test orders as PostgreSQL may: a lower sequence number can
// commit after a higher one was read, a rolled-back one never commits, a read can fail.
// Pure: no database (the SQLite and PostgreSQL logs have their conformance cases).
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "app/revocation_feed.hpp"

namespace stagepass {
namespace {

class MemoryLog final : public RevocationLog {
 public:
  void commit(int64_t seq, std::string kind, std::string id, std::string client, int64_t at) {
    rows_.push_back({seq, std::move(kind), std::move(id), std::move(client), at});
    std::sort(rows_.begin(), rows_.end(), [](auto& a, auto& b) { return a.seq < b.seq; });
  }
  bool down = false;
  int in_calls = 0;

  Result<RevocationStart> revocation_start(int64_t since, int64_t settled_before) override {
    if (down) return fail(Error{ErrorCode::kIo, "down"});
    RevocationStart start;
    for (const auto& r : rows_) {
      if (r.at < settled_before) start.settled = std::max(start.settled, r.seq);
    }
    start.first = start.settled;
    for (const auto& r : rows_) {
      if (r.at >= since) {
        start.first = r.seq - 1;
        break;
      }
    }
    return start;
  }
  Result<std::vector<RevocationEntry>> revocations_after(int64_t seq, int limit) override {
    if (down) return fail(Error{ErrorCode::kIo, "down"});
    std::vector<RevocationEntry> out;
    for (const auto& r : rows_) {
      if (r.seq > seq && static_cast<int>(out.size()) < limit) out.push_back(r);
    }
    return out;
  }
  Result<std::vector<RevocationEntry>> revocations_in(const std::vector<int64_t>& seqs) override {
    ++in_calls;
    if (down) return fail(Error{ErrorCode::kIo, "down"});
    std::vector<RevocationEntry> out;
    for (const auto& r : rows_) {
      if (std::find(seqs.begin(), seqs.end(), r.seq) != seqs.end()) out.push_back(r);
    }
    return out;
  }

 private:
  std::vector<RevocationEntry> rows_;
};

class RevocationFeedLogTest : public ::testing::Test {
 protected:
  static constexpr int64_t kLookback = 40;
  MemoryLog log_;
  ManualClock clock_{100000};
  RevocationSet set_{3700, 100000};
  RevocationFeed feed_{log_, set_, clock_, 3700, kLookback};
  bool revoked(const std::string& grant) const {
    return set_.covers(grant, "c1", "", clock_.now() - 1);
  }
};

// PostgreSQL: a reader at 3 may later see 2 commit. The feed applies it when it does.
TEST_F(RevocationFeedLogTest, ALowerSequenceCommittedLaterIsApplied) {
  log_.commit(1, "grant", "g1", "c1", clock_.now());
  log_.commit(3, "grant", "g3", "c1", clock_.now());
  feed_.poll();
  EXPECT_TRUE(revoked("g1"));
  EXPECT_TRUE(revoked("g3"));
  EXPECT_FALSE(revoked("g2"));
  clock_.advance(kLookback);  // still within the lookback
  log_.commit(2, "grant", "g2", "c1", clock_.now());
  feed_.poll();
  EXPECT_TRUE(revoked("g2"));
  EXPECT_EQ(feed_.applied(), 3u);
}

// A rolled-back transaction's number never commits: the hole is re-read for the lookback,
// then given up (no read of it after that).
TEST_F(RevocationFeedLogTest, AHoleIsReReadForTheLookbackOnly) {
  log_.commit(1, "grant", "g1", "c1", clock_.now());
  log_.commit(3, "grant", "g3", "c1", clock_.now());
  feed_.poll();
  clock_.advance(kLookback + 1);
  feed_.poll();
  const int reads = log_.in_calls;
  log_.commit(4, "grant", "g4", "c1", clock_.now());
  feed_.poll();
  EXPECT_EQ(log_.in_calls, reads);
  EXPECT_TRUE(revoked("g4"));
}

// A failed read changes nothing it did not read; the next poll catches up on everything.
TEST_F(RevocationFeedLogTest, CatchesUpAfterTheLogWasUnreachable) {
  log_.down = true;
  log_.commit(1, "token", "j1", "c1", clock_.now());
  feed_.poll();
  EXPECT_FALSE(set_.covers("", "c1", "j1", clock_.now()));
  log_.commit(2, "client", "c9", "c9", clock_.now());
  log_.down = false;
  feed_.poll();
  EXPECT_TRUE(set_.covers("", "c1", "j1", clock_.now()));
  EXPECT_TRUE(set_.covers("", "c9", "", clock_.now()));
}

// Every entry is applied once however often the feed is woken, and a client's deletion is
// announced once.
TEST_F(RevocationFeedLogTest, EachEntryIsAppliedOnce) {
  int deleted = 0;
  feed_.on_client_deleted([&](const std::string& id) { deleted += id == "c9"; });
  log_.commit(1, "client", "c9", "c9", clock_.now());
  log_.commit(2, "cut", "c2", "c2", clock_.now());
  for (int i = 0; i < 5; ++i) feed_.poll();
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(feed_.applied(), 2u);
  EXPECT_TRUE(set_.covers("", "c2", "", clock_.now()));
}

// At start the feed loads the retention window only, however long the log, in pages.
TEST_F(RevocationFeedLogTest, StartsAtTheRetentionWindowAndReadsEveryPage) {
  log_.commit(1, "grant", "ancient", "c1", clock_.now() - 3701);
  for (int i = 0; i < 2 * RevocationFeed::kPage + 5; ++i) {
    log_.commit(i + 2, "token", "j" + std::to_string(i), "c1", clock_.now() - 10);
  }
  feed_.poll();
  EXPECT_EQ(feed_.applied(), 2u * RevocationFeed::kPage + 5);
  EXPECT_FALSE(set_.covers("ancient", "c1", "", clock_.now() - 3800));
  EXPECT_TRUE(set_.covers("", "c1", "j2004", clock_.now()));
}

// issue16 review: a node that starts while a revoking transaction is open (its number 2 taken,
// not committed) and a later one (3) committed must wait for 2, not start after it.
TEST_F(RevocationFeedLogTest, ARevocationInFlightWhenTheNodeStartsIsAppliedWhenItCommits) {
  log_.commit(1, "grant", "old", "c1", clock_.now() - 100);  // settled: before the lookback
  log_.commit(3, "grant", "g3", "c1", clock_.now());
  feed_.poll();  // the node starts now
  EXPECT_TRUE(revoked("old"));
  EXPECT_TRUE(revoked("g3"));
  clock_.advance(10);
  log_.commit(2, "grant", "g2", "c1", clock_.now() - 10);
  feed_.poll();
  EXPECT_TRUE(revoked("g2"));
}

// The same with nothing settled yet (a young log): the numbers below the first entry are
// holes too.
TEST_F(RevocationFeedLogTest, ARevocationInFlightInAYoungLogIsApplied) {
  log_.commit(2, "grant", "g2", "c1", clock_.now());
  feed_.poll();
  log_.commit(1, "grant", "g1", "c1", clock_.now());
  feed_.poll();
  EXPECT_TRUE(revoked("g1"));
  EXPECT_TRUE(revoked("g2"));
}

// A pruned log (numbers up to 5000 gone but the newest before the cut, as prune_revocations
// keeps) makes no holes: nothing is re-read, nothing given up.
TEST_F(RevocationFeedLogTest, APrunedLogMakesNoHoles) {
  log_.commit(5000, "grant", "kept", "c1", clock_.now() - 5000);
  log_.commit(5001, "grant", "g1", "c1", clock_.now() - 100);
  log_.commit(5002, "grant", "g2", "c1", clock_.now());
  feed_.poll();
  feed_.poll();
  EXPECT_EQ(log_.in_calls, 0);
  EXPECT_EQ(feed_.holes_dropped(), 0u);
  EXPECT_TRUE(revoked("g1"));
  EXPECT_TRUE(revoked("g2"));
}

// The retention window older than the lookback is loaded in pages too, before the reading
// by sequence starts.
TEST_F(RevocationFeedLogTest, LoadsTheSettledPartOfTheWindowInPages) {
  for (int i = 0; i < 2 * RevocationFeed::kPage + 5; ++i) {
    log_.commit(i + 1, "token", "j" + std::to_string(i), "c1", clock_.now() - 100);
  }
  log_.commit(2 * RevocationFeed::kPage + 6, "token", "new", "c1", clock_.now());
  feed_.poll();
  EXPECT_EQ(feed_.applied(), 2u * RevocationFeed::kPage + 6);
  EXPECT_TRUE(set_.covers("", "c1", "j0", clock_.now()));
  EXPECT_TRUE(set_.covers("", "c1", "j2004", clock_.now()));
  EXPECT_TRUE(set_.covers("", "c1", "new", clock_.now()));
  EXPECT_EQ(log_.in_calls, 0);
}

// Not loaded (so not ready) until a poll reads the log; an outage after that keeps it
// loaded, and its age grows until the next read.
TEST_F(RevocationFeedLogTest, LoadedAfterTheFirstReadAndAgeGrowsDuringAnOutage) {
  log_.down = true;
  feed_.poll();
  EXPECT_FALSE(feed_.loaded());
  clock_.advance(5);
  EXPECT_EQ(feed_.age(), 5);
  log_.down = false;
  feed_.poll();
  EXPECT_TRUE(feed_.loaded());
  EXPECT_EQ(feed_.age(), 0);
  log_.down = true;
  clock_.advance(7);
  feed_.poll();
  EXPECT_TRUE(feed_.loaded());
  EXPECT_EQ(feed_.age(), 7);
}

// An entry of a kind this version does not know fails closed: the client's tokens issued up
// to then are refused.
TEST_F(RevocationFeedLogTest, AnUnknownKindRefusesTheClientsEarlierTokens) {
  log_.commit(1, "something-new", "x", "c3", clock_.now());
  feed_.poll();
  EXPECT_TRUE(set_.covers("", "c3", "", clock_.now()));
}

}  // namespace
}  // namespace stagepass

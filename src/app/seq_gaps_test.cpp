// SeqGaps: the holes a reader of the revocations log re-reads (PostgreSQL commits sequence
// numbers out of order). Pure logic, no database.
#include "app/seq_gaps.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

using Seqs = std::vector<int64_t>;

TEST(SeqGapsTest, ReadingInOrderLeavesNoHoles) {
  SeqGaps g(30, 100);
  g.start_after(4);
  EXPECT_TRUE(g.read(5, 1000));
  EXPECT_TRUE(g.read(6, 1000));
  EXPECT_EQ(g.last(), 6);
  EXPECT_EQ(g.size(), 0u);
}

// A reader at 10 that sees 12 waits for 11; when 11 commits later it is new, once.
TEST(SeqGapsTest, ASkippedNumberIsAHoleUntilItIsRead) {
  SeqGaps g(30, 100);
  g.start_after(10);
  EXPECT_TRUE(g.read(13, 1000));
  EXPECT_EQ(g.holes(10), (Seqs{11, 12}));
  EXPECT_TRUE(g.read(12, 1001));   // filled: apply it
  EXPECT_FALSE(g.read(12, 1001));  // read again: already applied
  EXPECT_FALSE(g.read(13, 1001));  // below last and no hole: already applied
  EXPECT_EQ(g.holes(10), (Seqs{11}));
  EXPECT_EQ(g.last(), 13);
}

// A rolled-back transaction's number never fills: it is given up after keep_seconds.
TEST(SeqGapsTest, AHoleIsGivenUpAfterKeepSeconds) {
  SeqGaps g(30, 100);
  g.start_after(0);
  g.read(3, 1000);
  g.expire(1030);
  EXPECT_EQ(g.size(), 2u);  // 30 s: still waited for
  g.expire(1031);
  EXPECT_EQ(g.size(), 0u);
  EXPECT_FALSE(g.read(1, 1032));  // too late: not applied twice either way
}

// The table is bounded: a jump larger than it keeps the newest holes and counts the others.
TEST(SeqGapsTest, HolesAreBounded) {
  SeqGaps g(30, 4);
  g.start_after(0);
  g.read(11, 1000);  // holes 1..10: keeps 7..10
  EXPECT_EQ(g.holes(100), (Seqs{7, 8, 9, 10}));
  EXPECT_EQ(g.dropped(), 6u);
  g.read(13, 1000);  // adds 12, drops 7
  EXPECT_EQ(g.holes(100), (Seqs{8, 9, 10, 12}));
  EXPECT_EQ(g.holes(2), (Seqs{8, 9}));
}

}  // namespace
}  // namespace stagepass

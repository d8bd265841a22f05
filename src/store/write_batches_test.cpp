#include "store/write_batches.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace stagepass {
namespace {

std::vector<int> numbers(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(WriteBatchesTest, EveryRowOnceInOrderInCallsOfAtMostTheBatch) {
  const auto rows = numbers(300);
  std::vector<size_t> sizes;
  std::vector<int> seen;
  auto done = write_in_batches(rows, [&](const std::vector<int>& batch) -> Status<> {
    sizes.push_back(batch.size());
    seen.insert(seen.end(), batch.begin(), batch.end());
    return Ok{};
  });
  ASSERT_TRUE(done.status);
  EXPECT_TRUE(done.left.empty());
  EXPECT_EQ(sizes, (std::vector<size_t>{kRowsPerWrite, kRowsPerWrite, 300 - 2 * kRowsPerWrite}));
  EXPECT_EQ(seen, rows);
}

TEST(WriteBatchesTest, AFailedCallStopsAndLeavesItsRowsAndTheRest) {
  const auto rows = numbers(10);
  int calls = 0;
  auto done = write_in_batches(
      rows,
      [&](const std::vector<int>&) -> Status<> {
        if (++calls == 2) return fail(Error{ErrorCode::kIo, "disk full"});
        return Ok{};
      },
      4);
  EXPECT_EQ(calls, 2);  // no call after the failure
  ASSERT_FALSE(done.status);
  EXPECT_EQ(done.status.error().message, "disk full");
  EXPECT_EQ(done.left, (std::vector<int>{4, 5, 6, 7, 8, 9}));
}

TEST(WriteBatchesTest, NothingToWriteMakesNoCallAndZeroMeansOneRowPerCall) {
  int calls = 0;
  auto none = write_in_batches(std::vector<int>{}, [&](const std::vector<int>&) -> Status<> {
    ++calls;
    return Ok{};
  });
  EXPECT_TRUE(none.status);
  EXPECT_EQ(calls, 0);
  auto ones = write_in_batches(
      numbers(3),
      [&](const std::vector<int>& batch) -> Status<> {
        EXPECT_EQ(batch.size(), 1u);
        ++calls;
        return Ok{};
      },
      0);
  EXPECT_TRUE(ones.status);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace stagepass

#include "core/read_cache.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

using std::chrono::seconds;
using Cache = ReadCache<std::string>;  // id -> name
const Cache::Clock::time_point t0{};

TEST(ReadCache, AnswersUntilTheEntryExpires) {
  Cache cache(10, seconds(60));
  cache.put("u1", "Ann", cache.version(), t0);
  ASSERT_TRUE(cache.get("u1", t0 + seconds(59)));
  EXPECT_EQ(*cache.get("u1", t0 + seconds(59)), "Ann");
  EXPECT_FALSE(cache.get("u1", t0 + seconds(60)));
  EXPECT_FALSE(cache.get("u2", t0));
}

TEST(ReadCache, VisitSeesOnlyLiveEntries) {
  Cache cache(10, seconds(60));
  cache.put("u1", "Ann", cache.version(), t0);
  std::string seen;
  EXPECT_TRUE(cache.visit(
      "u1", [&](const std::string& v) { seen = v; }, t0 + seconds(1)));
  EXPECT_EQ(seen, "Ann");
  EXPECT_FALSE(cache.visit(
      "u1", [&](const std::string&) { ADD_FAILURE(); }, t0 + seconds(60)));
  EXPECT_FALSE(cache.visit(
      "u2", [&](const std::string&) { ADD_FAILURE(); }, t0));
}

TEST(ReadCache, ForgetsAChangedValueAndStaysBounded) {
  Cache cache(2, seconds(60));
  cache.put("u1", "Ann", cache.version(), t0);
  cache.erase("u1");
  EXPECT_FALSE(cache.get("u1", t0));
  const uint64_t v = cache.version();
  cache.put("u1", "Ann", v, t0);
  cache.put("u2", "Bob", v, t0);
  cache.put("u2", "Bobby", v, t0);  // replacing does not evict
  EXPECT_EQ(cache.size(), 2u);
  cache.put("u3", "Cy", v, t0);
  EXPECT_LE(cache.size(), 2u);
  EXPECT_EQ(*cache.get("u3", t0), "Cy");
  Cache off(0, seconds(60));
  off.put("u1", "Ann", off.version(), t0);
  EXPECT_FALSE(off.get("u1", t0));
}

TEST(ReadCache, ARowReadBeforeAWriteIsNotCached) {
  Cache cache(10, seconds(60));
  const uint64_t before_read = cache.version();
  cache.erase("u1");  // a writer changed u1 while the reader was reading the old row
  cache.put("u1", "Old name", before_read, t0);
  EXPECT_FALSE(cache.get("u1", t0));
}

}  // namespace
}  // namespace stagepass

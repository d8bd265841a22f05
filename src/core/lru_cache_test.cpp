#include "core/lru_cache.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

using Cache = LruCache<std::string>;
std::shared_ptr<const std::string> v(const char* s) { return std::make_shared<std::string>(s); }

TEST(LruCache, DropsTheLeastRecentlyUsedBeyondMaxEntries) {
  Cache cache(2, 1 << 20);
  cache.put("a", v("A"), 1, cache.generation());
  cache.put("b", v("B"), 1, cache.generation());
  ASSERT_TRUE(cache.get("a"));  // "b" is now the least recently used
  cache.put("c", v("C"), 1, cache.generation());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.get("b"));
  EXPECT_EQ(*cache.get("a"), "A");
  EXPECT_EQ(*cache.get("c"), "C");
}

TEST(LruCache, CountsBytesAndDropsBeyondMaxBytes) {
  const size_t entry = 100 + 2 * 2 + Cache::kEntryOverhead;  // 100-byte value, key "k?" twice
  Cache cache(100, 2 * entry);
  cache.put("k1", v("1"), 100, cache.generation());
  cache.put("k2", v("2"), 100, cache.generation());
  EXPECT_EQ(cache.bytes(), 2 * entry);
  cache.put("k3", v("3"), 100, cache.generation());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.bytes(), 2 * entry);
  EXPECT_FALSE(cache.get("k1"));
  cache.put("k2", v("2b"), 10, cache.generation());  // replacing an entry recounts it
  EXPECT_EQ(cache.bytes(), entry + 10 + 2 * 2 + Cache::kEntryOverhead);
  EXPECT_EQ(*cache.get("k2"), "2b");
  cache.put("huge", v("h"), 3 * entry, cache.generation());  // larger than the budget
  EXPECT_FALSE(cache.get("huge"));
  EXPECT_TRUE(cache.get("k2"));
}

TEST(LruCache, APutReadBeforeAClearIsDropped) {
  Cache cache(10, 1 << 20);
  const uint64_t before = cache.generation();
  cache.put("a", v("A"), 1, before);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.put("a", v("old"), 1, before);
  EXPECT_FALSE(cache.get("a"));
  cache.put("a", v("new"), 1, cache.generation());
  EXPECT_EQ(*cache.get("a"), "new");
}

TEST(LruCache, ZeroEntriesKeepsNothing) {
  Cache cache(0, 1 << 20);
  cache.put("a", v("A"), 1, cache.generation());
  EXPECT_FALSE(cache.get("a"));
}

}  // namespace
}  // namespace stagepass

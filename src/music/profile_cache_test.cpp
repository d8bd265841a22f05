#include "music/profile_cache.hpp"

#include <gtest/gtest.h>

namespace stagepass::music {
namespace {

using std::chrono::seconds;
const ProfileCache::Clock::time_point t0{};

Profile profile(std::string id, std::string name) {
  Profile p;
  p.id = std::move(id);
  p.display_name = std::move(name);
  return p;
}

TEST(ProfileCache, AnswersUntilTheEntryExpires) {
  ProfileCache cache(10, seconds(60));
  cache.put(profile("u1", "Ann"), cache.version(), t0);
  ASSERT_TRUE(cache.get("u1", t0 + seconds(59)));
  EXPECT_EQ(cache.get("u1", t0 + seconds(59))->display_name, "Ann");
  EXPECT_FALSE(cache.get("u1", t0 + seconds(60)));
  EXPECT_FALSE(cache.get("u2", t0));
}

TEST(ProfileCache, ForgetsAChangedProfileAndStaysBounded) {
  ProfileCache cache(2, seconds(60));
  cache.put(profile("u1", "Ann"), cache.version(), t0);
  cache.erase("u1");
  EXPECT_FALSE(cache.get("u1", t0));
  const uint64_t v = cache.version();
  cache.put(profile("u1", "Ann"), v, t0);
  cache.put(profile("u2", "Bob"), v, t0);
  cache.put(profile("u2", "Bobby"), v, t0);  // replacing does not evict
  EXPECT_EQ(cache.size(), 2u);
  cache.put(profile("u3", "Cy"), v, t0);
  EXPECT_LE(cache.size(), 2u);
  EXPECT_EQ(cache.get("u3", t0)->display_name, "Cy");
  ProfileCache off(0);
  off.put(profile("u1", "Ann"), off.version(), t0);
  EXPECT_FALSE(off.get("u1", t0));
}

TEST(ProfileCache, ARowReadBeforeAWriteIsNotCached) {
  ProfileCache cache;
  const uint64_t before_read = cache.version();
  cache.erase("u1");  // a writer changed u1 while the reader was reading the old row
  cache.put(profile("u1", "Old name"), before_read, t0);
  EXPECT_FALSE(cache.get("u1", t0));
}

}  // namespace
}  // namespace stagepass::music

// AppUsage: the per-app usage windows, their persistence encoding and their /metrics export.
#include "monitor/app_usage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace stagepass {
namespace {

// "text" + std::to_string(n) without GCC 12's false -Wrestrict warning.
std::string cat(std::string a, int64_t n) { return a += std::to_string(n); }

constexpr int64_t kT0 = 1'800'000'000;  // a multiple of 86400? no matter: windows align

TEST(EndpointGroups, PathsMapToTheirGroup) {
  EXPECT_EQ(group_for_path("/v1/me"), EndpointGroup::kProfile);
  EXPECT_EQ(group_for_path("/v1/users/abc"), EndpointGroup::kProfile);
  EXPECT_EQ(group_for_path("/v1/users/abc/playlists"), EndpointGroup::kPlaylists);
  EXPECT_EQ(group_for_path("/v1/me/tracks/contains"), EndpointGroup::kLibrary);
  EXPECT_EQ(group_for_path("/v1/me/playlists"), EndpointGroup::kPlaylists);
  EXPECT_EQ(group_for_path("/v1/playlists/x/items"), EndpointGroup::kPlaylists);
  EXPECT_EQ(group_for_path("/v1/me/player/play"), EndpointGroup::kPlayer);
  EXPECT_EQ(group_for_path("/v1/me/player/recently-played"), EndpointGroup::kPersonalization);
  EXPECT_EQ(group_for_path("/v1/me/top/tracks"), EndpointGroup::kPersonalization);
  EXPECT_EQ(group_for_path("/v1/me/following"), EndpointGroup::kFollow);
  EXPECT_EQ(group_for_path("/v1/search"), EndpointGroup::kSearch);
  EXPECT_EQ(group_for_path("/v1/tracks/abc"), EndpointGroup::kCatalog);
  EXPECT_EQ(group_for_path("/v1/artists/abc/albums"), EndpointGroup::kCatalog);
  EXPECT_EQ(group_for_path("/api/token"), EndpointGroup::kToken);
  EXPECT_EQ(group_for_path("/v1/method"), EndpointGroup::kOther);
  EXPECT_EQ(group_for_path("/v1/mexico"), EndpointGroup::kOther);
}

TEST(DistinctSketch, EstimatesDistinctValuesWithinItsError) {
  DistinctSketch s;
  EXPECT_EQ(s.estimate(), 0u);
  for (int i = 0; i < 3; ++i) s.add("same");
  EXPECT_EQ(s.estimate(), 1u);
  DistinctSketch big;
  for (int i = 0; i < 5000; ++i) big.add(cat("user-", i));
  EXPECT_GT(big.estimate(), 3500u);
  EXPECT_LT(big.estimate(), 6500u);
  DistinctSketch a, b;
  for (int i = 0; i < 20; ++i) (i % 2 ? a : b).add(cat("u", i));
  a.merge(b);
  EXPECT_NEAR(static_cast<double>(a.estimate()), 20.0, 4.0);
}

TEST(AppUsage, CountsPerGroupErrorsAndLimitsInEveryWindow) {
  AppUsage usage;
  usage.note("app1", EndpointGroup::kProfile, 200, "u1", "g1");
  usage.note("app1", EndpointGroup::kProfile, 200, "u2", "g2");
  usage.note("app1", EndpointGroup::kSearch, 404, "u1", "g1");
  usage.note("app1", EndpointGroup::kSearch, 429, "u1", "g1");
  usage.note("app1", EndpointGroup::kToken, 200, "", "");
  usage.note("app2", EndpointGroup::kCatalog, 200, "", "");
  usage.fold(kT0);
  auto s = usage.usage("app1", kT0 + 5);
  ASSERT_EQ(s.windows.size(), 3u);
  EXPECT_EQ(s.windows[0].name, "1h");
  EXPECT_EQ(s.windows[0].points.size(), 60u);
  EXPECT_EQ(s.windows[1].points.size(), 24u);
  EXPECT_EQ(s.windows[2].points.size(), 30u);
  for (const auto& w : s.windows) {
    EXPECT_EQ(w.total.total(), 5u) << w.name;
    EXPECT_EQ(w.total.requests[size_t(EndpointGroup::kProfile)], 2u);
    EXPECT_EQ(w.total.requests[size_t(EndpointGroup::kSearch)], 2u);
    EXPECT_EQ(w.total.requests[size_t(EndpointGroup::kToken)], 1u);
    EXPECT_EQ(w.total.errors, 1u);
    EXPECT_EQ(w.total.rate_limited, 1u);
    EXPECT_EQ(w.total.users.estimate(), 2u);
    EXPECT_EQ(w.total.grants.estimate(), 2u);
  }
  EXPECT_EQ(s.windows[0].points.back().counts.total(), 5u);  // the newest point is now
  EXPECT_EQ(usage.usage("nobody", kT0).windows[0].total.total(), 0u);
}

TEST(AppUsage, OldBucketsLeaveTheirWindow) {
  AppUsage usage;
  usage.note("app", EndpointGroup::kProfile, 200, "u", "g");
  usage.fold(kT0);
  auto later = usage.usage("app", kT0 + 2 * 3600);
  EXPECT_EQ(later.windows[0].total.total(), 0u);  // past the hour
  EXPECT_EQ(later.windows[1].total.total(), 1u);  // still in the day
  auto much_later = usage.usage("app", kT0 + 31 * 86400);
  EXPECT_EQ(much_later.windows[2].total.total(), 0u);
  // A bucket reused by the ring starts from zero.
  usage.note("app", EndpointGroup::kProfile, 200, "u", "g");
  usage.fold(kT0 + 3600);
  EXPECT_EQ(usage.usage("app", kT0 + 3600).windows[0].total.total(), 1u);
}

TEST(AppUsage, NotesFromManyThreadsAreAllCounted) {
  AppUsage usage;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) usage.note("app", EndpointGroup::kPlayer, 200, "u", "g");
    });
  }
  for (auto& t : threads) t.join();
  usage.fold(kT0);
  EXPECT_EQ(usage.usage("app", kT0).windows[0].total.total(), 8000u);
}

uint64_t hour_total(const AppUsage& usage, const std::string& id, int64_t now) {
  return usage.usage(id, now).windows[0].total.total();
}

// issue15-fix:abuse: a full table evicts the least recently active app; every app is counted
// under its own id (no shared "other" bucket that a client id could collide with).
TEST(AppUsage, AFullTableEvictsTheLeastRecentlyActiveApp) {
  AppUsage usage(2);
  usage.note("other", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0);
  usage.note("b", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 1);
  usage.note("other", EndpointGroup::kProfile, 200, "", "");  // "other" is active again
  usage.fold(kT0 + 2);
  usage.note("c", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 3);
  EXPECT_EQ(usage.apps(), (std::vector<std::string>{"c", "other"}));  // "b" was idle longest
  EXPECT_EQ(usage.evictions(), 1u);
  EXPECT_FALSE(usage.tracked("b"));
  EXPECT_EQ(hour_total(usage, "other", kT0 + 3), 2u);  // a real app's own counts, no more
  EXPECT_EQ(hour_total(usage, "c", kT0 + 3), 1u);
  // The evicted app's unsaved buckets still reach the store.
  auto rows = usage.dirty_rows();
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [](auto& r) { return r.client_id == "b"; }), 3);
}

// A returning app gets its history back from the store before its new counts are added, so
// the bucket it saves next holds all of them.
TEST(AppUsage, AnEvictedAppComesBackWithItsHistory) {
  std::vector<AppUsageRow> store;
  auto save = [&](AppUsage& u) {
    for (auto& row : u.dirty_rows()) {
      std::erase_if(store, [&](const AppUsageRow& r) {
        return r.client_id == row.client_id && r.span == row.span && r.start == row.start;
      });
      store.push_back(row);
    }
  };
  AppUsage usage(1, [&](const std::string& id, int64_t since) {
    std::vector<AppUsageRow> out;
    for (const auto& r : store)
      if (r.client_id == id && r.start >= since) out.push_back(r);
    return out;
  });
  for (int i = 0; i < 3; ++i) usage.note("a", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0);
  save(usage);
  usage.note("b", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 1);  // "a" evicted
  EXPECT_FALSE(usage.tracked("a"));
  for (int i = 0; i < 2; ++i) usage.note("a", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 2);  // "a" back: 3 from the store + 2
  EXPECT_EQ(usage.usage("a", kT0 + 2).windows[2].total.total(), 5u);
  save(usage);
  auto stored = AppUsage::series_from_rows("a", store, kT0 + 2);
  EXPECT_EQ(stored.windows[1].total.total(), 5u);  // the saved hour bucket is whole
  // Evicted before its buckets were saved, and back before the save: nothing lost either.
  usage.note("b", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 3);  // "a" evicted with nothing unsaved, "b" back
  usage.note("a", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 4);  // "b" evicted, its bucket unsaved
  usage.note("b", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 5);  // "b" back: its unsaved rows (2) over the store's (1), and 1 more
  EXPECT_EQ(usage.usage("b", kT0 + 5).windows[2].total.total(), 3u);
}

// A deleted app is dropped at once: windows, unsaved rows, notes not folded yet.
TEST(AppUsage, ForgetDropsEverythingAboutAnApp) {
  AppUsage usage(1);
  usage.note("gone", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0);
  usage.note("next", EndpointGroup::kProfile, 200, "", "");
  usage.fold(kT0 + 1);                                       // "gone" evicted, its rows unsaved
  usage.note("gone", EndpointGroup::kProfile, 200, "", "");  // pending
  usage.forget("gone");
  usage.fold(kT0 + 2);
  EXPECT_FALSE(usage.tracked("gone"));
  for (const auto& row : usage.dirty_rows()) EXPECT_NE(row.client_id, "gone");
  usage.forget("next");
  EXPECT_TRUE(usage.apps().empty());
}

// At start, of more stored apps than the bound, those with the most recent buckets.
TEST(AppUsage, LoadKeepsTheMostRecentlyActiveApps) {
  AppUsage before;
  before.note("old", EndpointGroup::kProfile, 200, "", "");
  before.fold(kT0);
  before.note("new", EndpointGroup::kProfile, 200, "", "");
  before.fold(kT0 + 120);
  AppUsage after(1);
  after.load(before.dirty_rows(), kT0 + 180);
  EXPECT_EQ(after.apps(), std::vector<std::string>{"new"});
}

TEST(AppUsage, PersistedRowsRestoreTheHistory) {
  AppUsage before;
  before.note("app", EndpointGroup::kLibrary, 200, "u1", "g1");
  before.note("app", EndpointGroup::kLibrary, 500, "u2", "g2");
  before.fold(kT0);
  auto rows = before.dirty_rows();
  EXPECT_EQ(rows.size(), 3u);                // a minute, an hour and a day bucket
  EXPECT_TRUE(before.dirty_rows().empty());  // nothing changed since
  AppUsage after;
  after.load(rows, kT0 + 60);
  auto s = after.usage("app", kT0 + 60);
  for (const auto& w : s.windows) {
    EXPECT_EQ(w.total.requests[size_t(EndpointGroup::kLibrary)], 2u);
    EXPECT_EQ(w.total.errors, 1u);
    EXPECT_EQ(w.total.users.estimate(), 2u);
  }
  // Rows too old for their window, of an unknown span, or damaged are skipped.
  AppUsage skipped;
  auto bad = rows;
  bad[0].data = "1,2,x";
  bad[1].span = 7;
  skipped.load(bad, kT0 + 60);
  skipped.load(rows, kT0 + 40 * 86400);
  EXPECT_EQ(skipped.usage("app", kT0 + 60).windows[2].total.total(), 2u);  // the day row only
}

TEST(AppUsage, EncodingRoundTripsAndRefusesGarbage) {
  UsageCounts c;
  c.requests[3] = 7;
  c.errors = 2;
  c.rate_limited = 1;
  c.users.add("x");
  auto back = AppUsage::decode(AppUsage::encode(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->requests[3], 7u);
  EXPECT_EQ(back->users.reg, c.users.reg);
  EXPECT_FALSE(AppUsage::decode(""));
  EXPECT_FALSE(AppUsage::decode("1,2,3"));
  EXPECT_FALSE(AppUsage::decode(AppUsage::encode(c) + "0"));
}

TEST(AppUsage, RateComparesAMinuteWithTheHourBefore) {
  AppUsage usage;
  const int64_t base = kT0 - kT0 % 3600;
  for (int m = 0; m < 59; ++m) {
    for (int i = 0; i < 10; ++i) usage.note("app", EndpointGroup::kProfile, 200, "", "");
    usage.fold(base + m * 60);
  }
  for (int i = 0; i < 100; ++i) usage.note("app", EndpointGroup::kProfile, 200, "", "");
  usage.fold(base + 59 * 60);
  auto r = usage.rate("app", base + 59 * 60);
  EXPECT_EQ(r.minute, 100u);
  EXPECT_NEAR(r.hour_mean, 10.0, 0.01);
}

// issue15-fix:burst: the rate counts admitted requests only (answered below 400).
TEST(AppUsage, RateCountsOnlyAdmittedRequests) {
  AppUsage usage;
  const int64_t base = kT0 - kT0 % 3600;
  for (int i = 0; i < 10; ++i) usage.note("app", EndpointGroup::kProfile, 200, "u", "g1");
  for (int status : {429, 403, 401, 404, 500}) {
    usage.note("app", EndpointGroup::kProfile, status, "u", "g2");
  }
  usage.fold(base);
  auto r = usage.rate("app", base);
  EXPECT_EQ(r.minute, 10u);
  // g2 was only ever refused: a user's throwaway accounts add no spread to a burst.
  EXPECT_EQ(r.minute_grants, 1u);
  EXPECT_EQ(usage.usage("app", base + 1).windows[0].total.total(), 15u);  // charts show all
}

TEST(AppUsage, PrometheusShowsEachAppsSeriesWithBoundedLabels) {
  AppUsage usage;
  usage.note("app1", EndpointGroup::kSearch, 200, "u", "g");
  usage.note("app1", EndpointGroup::kSearch, 429, "u", "g");
  usage.fold(kT0);
  const std::string text = usage.prometheus(kT0);
  EXPECT_NE(text.find("# TYPE stagepass_app_requests gauge"), std::string::npos);
  EXPECT_NE(
      text.find("stagepass_app_requests{client_id=\"app1\",group=\"search\",window=\"1h\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("stagepass_app_rate_limited{client_id=\"app1\",window=\"30d\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("stagepass_app_active_users{client_id=\"app1\",window=\"24h\"} 1"),
            std::string::npos);
  // An app idle for 30 days is left out.
  EXPECT_EQ(usage.prometheus(kT0 + 40 * 86400).find("app1"), std::string::npos);
}

}  // namespace
}  // namespace stagepass

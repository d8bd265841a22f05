// Store conformance, ClientStore (issue15:secrets): client secret rotation with overlap (at
// most two live), a hard cut and its record for every node, a reset, and each live secret's
// last use and distinct IPs. Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

using Pairs = std::vector<std::pair<std::string, int64_t>>;

// App c1 starts with one secret, hash "hash".
class SecretsConformance : public StoreConformance {
 protected:
  Pairs secrets_of(const std::string& id) {
    Pairs out;
    auto client = store_->find_client(id);
    EXPECT_TRUE(client.ok()) << id;
    if (!client) return out;
    for (const auto& s : client->secrets) out.emplace_back(s.hash, s.expires_at);
    return out;
  }
};

TEST_P(SecretsConformance, ARotationKeepsThePreviousSecretForTheGraceAndAtMostTwo) {
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"hash", 0}}));
  auto r = store_->rotate_client_secret("c1", "h2", 100, 3600);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->previous_expires_at, 3700);
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"h2", 0}, {"hash", 3700}}));
  EXPECT_EQ(store_->find_client("c1")->secret_hash, "h2");
  EXPECT_EQ(store_->find_client("c1")->secrets[0].id, r->secret_id);
  // A second rotation during the grace: the first secret ends at once.
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h3", 200, 60).ok());
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"h3", 0}, {"h2", 260}}));
  EXPECT_EQ(store_->find_client("c1")->tokens_cut_at, 0);  // no cut with a grace period
  EXPECT_TRUE(store_->client_cuts_since(0)->empty());
}

TEST_P(SecretsConformance, AHardCutEndsThePreviousSecretAndRecordsTheCutForEveryNode) {
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h2", 100, 3600).ok());
  auto r = store_->rotate_client_secret("c1", "h3", 200, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->previous_expires_at, 200);
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"h3", 0}}));
  const int64_t cut = 200 + ClientStore::kHardCutMarginSeconds;
  EXPECT_EQ(store_->find_client("c1")->tokens_cut_at, cut);
  EXPECT_EQ(*store_->client_cuts_since(cut), (Pairs{{"c1", cut}}));
  EXPECT_TRUE(store_->client_cuts_since(cut + 1)->empty());
  // A later cut moves it on; the listing shows the clients' cuts too.
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h4", 500, 0).ok());
  EXPECT_EQ(*store_->client_cuts_since(cut + 1), (Pairs{{"c1", 500 + 1}}));
  EXPECT_EQ(store_->list_clients()->at(0).tokens_cut_at, 501);
  EXPECT_EQ(store_->list_clients()->at(0).secret_hash, "h4");
}

// Another node, or the admin CLI, rotates: this handle sees it on the next lookup.
TEST_P(SecretsConformance, ARotationThroughAnotherHandleIsSeenAtOnce) {
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"hash", 0}}));  // cached now, where a backend caches
  {
    auto other = instance_->open_another();
    ASSERT_TRUE(other->rotate_client_secret("c1", "h2", 100, 60).ok());
  }
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"h2", 0}, {"hash", 160}}));
}

TEST_P(SecretsConformance, RefusesARotationItCannotMakeAndWritesNothing) {
  Client pub = app("pub");
  pub.is_public = true;
  pub.secret_hash = "";
  ASSERT_TRUE(store_->create_client(pub).ok());
  EXPECT_EQ(store_->rotate_client_secret("nope", "h", 100, 60).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->rotate_client_secret("pub", "h", 100, 60).error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->rotate_client_secret("c1", "h", 100, -1).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store_->rotate_client_secret("c1", "", 100, 60).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"hash", 0}}));
  EXPECT_TRUE(secrets_of("pub").empty());
}

TEST_P(SecretsConformance, LiveSecretsShowLastUseAndDistinctIpsOfTheLastDay) {
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h2", 1000, 3600).ok());
  auto ids = store_->find_client("c1")->secrets;
  const int64_t current = ids[0].id, retiring = ids[1].id;
  ASSERT_TRUE(store_
                  ->record_secret_usage({{current, "10.0.0.1", 1100},
                                         {current, "10.0.0.2", 1200},
                                         {current, "10.0.0.1", 1150},  // the latest per IP wins
                                         {retiring, "10.0.0.9", 1050},
                                         {retiring, "", 1300},        // IP not tracked: time only
                                         {99999, "10.0.0.5", 1300}},  // no such secret
                                        1300)
                  .ok());
  auto live = store_->list_live_secrets("c1", 1300);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0].id, current);
  EXPECT_EQ((*live)[0].created_at, 1000);
  EXPECT_EQ((*live)[0].expires_at, 0);
  EXPECT_EQ((*live)[0].last_used_at, 1200);
  EXPECT_EQ((*live)[0].distinct_ips_last_day, 2);
  EXPECT_EQ((*live)[1].expires_at, 4600);
  EXPECT_EQ((*live)[1].last_used_at, 1300);
  EXPECT_EQ((*live)[1].distinct_ips_last_day, 1);
  // A day later the IPs no longer count; the last use stays. The retiring secret has expired.
  live = store_->list_live_secrets("c1", 1200 + 86400);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].last_used_at, 1200);
  EXPECT_EQ((*live)[0].distinct_ips_last_day, 0);
  EXPECT_EQ(store_->list_live_secrets("nope", 0).error().code, ErrorCode::kNotFound);
}

// A secret used from a great many addresses counts at most kMaxTrackedIpsPerSecret of them
// (the figure then means "at least"); addresses not seen for a day give their place back.
TEST_P(SecretsConformance, TrackedIpsPerSecretAreBounded) {
  const int64_t id = store_->find_client("c1")->secrets[0].id;
  const int64_t cap = ClientStore::kMaxTrackedIpsPerSecret;
  std::vector<ClientSecretUse> uses;
  for (int64_t i = 0; i < cap + 50; ++i) uses.push_back({id, "10.1." + std::to_string(i), 100});
  ASSERT_TRUE(store_->record_secret_usage(uses, 100).ok());
  EXPECT_EQ(store_->list_live_secrets("c1", 100)->at(0).distinct_ips_last_day, cap);
  const int64_t next_day = 100 + 86400;
  ASSERT_TRUE(store_->record_secret_usage({{id, "192.0.2.1", next_day}}, next_day).ok());
  EXPECT_EQ(store_->list_live_secrets("c1", next_day)->at(0).distinct_ips_last_day, 1);
}

TEST_P(SecretsConformance, AResetReplacesEverySecret) {
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h2", 100, 3600).ok());
  ASSERT_TRUE(store_->set_client_secret_hash("c1", "demo").ok());
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"demo", 0}}));
  EXPECT_EQ(store_->set_client_secret_hash("nope", "x").error().code, ErrorCode::kNotFound);
}

STAGEPASS_CONFORMANCE_SUITE(SecretsConformance, kClients | kRevocationLog);

}  // namespace
}  // namespace stagepass::conformance

// Store conformance, ClientStore: apps, changes seen by every handle, suspension, apps owned on the
// dashboard. Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class ClientsConformance : public StoreConformance {};

// The client cache: a change made through other connections (another process: `stagepass
// admin`) is seen by the next lookup.
TEST_P(ClientsConformance, ClientChangesFromAnotherConnectionAreSeenAtOnce) {
  ASSERT_EQ(store_->find_client("c1")->secret_hash, "hash");  // now cached
  {
    auto other = instance_->open_another();
    ASSERT_TRUE(other->set_client_secret_hash("c1", "rotated").ok());
  }
  EXPECT_EQ(store_->find_client("c1")->secret_hash, "rotated");
  {
    auto other = instance_->open_another();
    ASSERT_TRUE(other->delete_client("c1", 200).ok());
  }
  auto gone = store_->find_client("c1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

// issue15:abuse. A suspension is part of the client (seen through the cache at once), feeds
// the revocation log while it lasts, and is lifted without a trace in the log.
TEST_P(ClientsConformance, ASuspensionIsSeenAtOnceAndFeedsTheRevocationLogWhileItLasts) {
  ASSERT_EQ(store_->find_client("c1")->suspended_at, 0);  // now cached
  {
    auto other = instance_->open_another();  // the admin CLI
    ASSERT_TRUE(other->set_client_suspension("c1", 500, "terms review").ok());
  }
  auto c = store_->find_client("c1");
  EXPECT_EQ(c->suspended_at, 500);
  EXPECT_EQ(c->suspended_reason, "terms review");
  auto since = store_->suspended_clients_since(400);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0], (std::pair<std::string, int64_t>{"c1", 500}));
  EXPECT_TRUE(store_->suspended_clients_since(501)->empty());
  ASSERT_TRUE(store_->set_client_suspension("c1", 0, "ignored").ok());
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);
  EXPECT_EQ(store_->find_client("c1")->suspended_reason, "");
  EXPECT_TRUE(store_->suspended_clients_since(0)->empty());
  EXPECT_EQ(store_->set_client_suspension("nope", 1, "").error().code, ErrorCode::kNotFound);
}

// issue15:dashboard - apps owned on the developer dashboard.
Client owned_app(std::string id, std::string owner, int64_t at = 5) {
  Client c{id, "App " + id, false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"),
           {}, at};
  c.owner_id = std::move(owner);
  c.description = "about ";
  c.description += id;
  return c;
}

TEST_P(ClientsConformance, OwnedAppsAreListedForTheirOwnerOnly) {
  ASSERT_TRUE(store_->create_owned_client(owned_app("a2", "u1"), 25).ok());
  ASSERT_TRUE(store_->create_owned_client(owned_app("a1", "u1"), 25).ok());
  ASSERT_TRUE(store_->create_owned_client(owned_app("b1", "u2"), 25).ok());
  auto mine = store_->list_owned_clients("u1");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].id, "a2");  // the order they were created in
  EXPECT_EQ((*mine)[1].id, "a1");
  EXPECT_EQ((*mine)[0].owner_id, "u1");
  EXPECT_EQ((*mine)[0].description, "about a2");
  // An operator's app (c1, no owner) is nobody's, even asked for with an empty owner.
  EXPECT_TRUE(store_->list_owned_clients("")->empty());
  EXPECT_EQ(store_->find_client("c1")->owner_id, "");
  EXPECT_FALSE(store_->create_owned_client(owned_app("x", ""), 25).ok());
}

TEST_P(ClientsConformance, TheAppLimitIsCountedInTheWrite) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(store_->create_owned_client(owned_app("a" + std::to_string(i), "u1"), 3).ok());
  auto fourth = store_->create_owned_client(owned_app("a3", "u1"), 3);
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store_->find_client("a3").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->create_owned_client(owned_app("b0", "u2"), 3).ok());  // per owner
  auto taken = store_->create_owned_client(owned_app("b0", "u2"), 3);
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->delete_client("a0", 10).ok());
  EXPECT_TRUE(store_->create_owned_client(owned_app("a3", "u1"), 3).ok());
}

// Several rounds, each with its own owner and the threads released together, so the later
// rounds race on connections that are already open (a server store opens them lazily, and
// the first round's connects alone would space the creations out).
TEST_P(ClientsConformance, ParallelCreatesStopAtTheLimit) {
  for (int round = 0; round < 6; ++round) {
    const std::string owner = nth("owner", round);
    std::atomic<int> created{0};
    race(8, [&](int i) {
      if (store_->create_owned_client(owned_app(owner + nth("-p", i), owner), 5).ok()) ++created;
    });
    EXPECT_EQ(created.load(), 5) << owner;
    EXPECT_EQ(store_->list_owned_clients(owner)->size(), 5u) << owner;
  }
}

TEST_P(ClientsConformance, OnlyTheOwnerUpdatesWhatAnOwnerMayEdit) {
  ASSERT_TRUE(store_->create_owned_client(owned_app("a1", "u1"), 25).ok());
  Client edit = *store_->find_client("a1");
  edit.name = "Renamed";
  edit.description = "new words";
  edit.redirect_uris = {"http://127.0.0.1/cb", "https://b/cb"};
  edit.web_origins = {"https://b"};
  edit.allowed_scopes = ScopeSet::parse("user-read-email user-top-read");
  edit.secret_hash = "other";  // not something an owner edits
  edit.is_public = true;
  Client thief = edit;
  thief.owner_id = "u2";
  thief.name = "Stolen";
  EXPECT_EQ(store_->update_owned_client(thief).error().code, ErrorCode::kNotFound);
  Client nobody = edit;
  nobody.owner_id = "";
  EXPECT_EQ(store_->update_owned_client(nobody).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->update_owned_client(edit).ok());
  Client now = *store_->find_client("a1");  // through the cache: the update bumped its version
  EXPECT_EQ(now.name, "Renamed");
  EXPECT_EQ(now.description, "new words");
  EXPECT_EQ(now.redirect_uris, edit.redirect_uris);
  EXPECT_EQ(now.web_origins, edit.web_origins);
  EXPECT_EQ(now.allowed_scopes.str(), "user-read-email user-top-read");
  EXPECT_EQ(now.secret_hash, "hash");
  EXPECT_FALSE(now.is_public);
  EXPECT_EQ(now.owner_id, "u1");
  // An operator's app is never updated as someone's.
  Client op = *store_->find_client("c1");
  op.owner_id = "u1";
  EXPECT_EQ(store_->update_owned_client(op).error().code, ErrorCode::kNotFound);
}

TEST_P(ClientsConformance, AnAppReadsBackAsCreatedAndIdsAreUnique) {
  Client c = app("c2");
  c.name = "Second";
  c.redirect_uris = {"https://a/cb", "http://127.0.0.1/cb"};
  c.web_origins = {"https://a"};
  c.allowed_scopes = ScopeSet::parse("streaming user-read-email");
  c.rate_limit = 77;
  c.introspect_any = true;
  c.created_at = 9;
  ASSERT_TRUE(store_->create_client(c).ok());
  auto back = store_->find_client("c2");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "Second");
  EXPECT_FALSE(back->is_public);
  EXPECT_EQ(back->secret_hash, "hash");
  EXPECT_EQ(back->redirect_uris, c.redirect_uris);
  EXPECT_EQ(back->web_origins, c.web_origins);
  EXPECT_EQ(back->allowed_scopes.str(), "streaming user-read-email");
  EXPECT_EQ(back->rate_limit, 77);
  EXPECT_TRUE(back->introspect_any);
  EXPECT_EQ(back->created_at, 9);
  EXPECT_EQ(store_->create_client(app("c2")).error().code, ErrorCode::kConflict);
  auto all = store_->list_clients();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(store_->find_client("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->delete_client("nope", 10).error().code, ErrorCode::kNotFound);
}

STAGEPASS_CONFORMANCE_SUITE(ClientsConformance, kClients | kRevocationLog);

}  // namespace
}  // namespace stagepass::conformance

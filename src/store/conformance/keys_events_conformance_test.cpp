// Store conformance, KeyStore (sealed signing keys and their schedule) and EventStore (the
// audit stream). Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class KeysConformance : public StoreConformance {
 protected:
  static SigningKey key(std::string kid, int64_t created_at, int64_t signs_from) {
    return {kid, "EdDSA", "pub-" + kid, "sealed-" + kid, created_at, signs_from, 0};
  }
  std::vector<std::string> kids() {
    std::vector<std::string> out;
    auto keys = store_->list_signing_keys();
    EXPECT_TRUE(keys.ok());
    if (keys.ok()) {
      for (const auto& k : *keys) out.push_back(k.kid);
    }
    return out;
  }
};

TEST_P(KeysConformance, KeysAreListedInSigningOrderAndKidsAreUnique) {
  EXPECT_TRUE(store_->list_signing_keys()->empty());
  ASSERT_TRUE(store_->save_signing_key(key("b", 20, 100)).ok());
  ASSERT_TRUE(store_->save_signing_key(key("a", 10, 200)).ok());
  ASSERT_TRUE(store_->save_signing_key(key("c", 5, 100)).ok());  // same start, made earlier
  EXPECT_EQ(kids(), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(store_->save_signing_key(key("a", 30, 300)).error().code, ErrorCode::kConflict);
  auto keys = store_->list_signing_keys();
  const SigningKey& a = keys->back();
  EXPECT_EQ(a.alg, "EdDSA");
  EXPECT_EQ(a.public_key, "pub-a");
  EXPECT_EQ(a.sealed_private_key, "sealed-a");
  EXPECT_EQ(a.created_at, 10);
  EXPECT_EQ(a.signs_from, 200);
  EXPECT_EQ(a.retire_at, 0);
}

// A key's halves are bytes (a raw Ed25519 public key, a sealed box): every byte value,
// NUL and invalid UTF-8 included, comes back exactly as stored.
TEST_P(KeysConformance, KeyBytesComeBackExactlyWhateverTheirValues) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  SigningKey k = key("bytes", 10, 100);
  k.public_key = every_byte.substr(200) + every_byte.substr(0, 32);
  k.sealed_private_key = every_byte + std::string("\xfe\xff\x00\x80", 4);
  ASSERT_TRUE(store_->save_signing_key(k).ok());
  auto keys = store_->list_signing_keys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().public_key, k.public_key);
  EXPECT_EQ(keys->front().sealed_private_key, k.sealed_private_key);
}

// A rotation stores the next key after every other and gives the one signing last its
// retirement, in one write; a second next key while one waits is refused, nothing written.
TEST_P(KeysConformance, ARotationAddsOneNextKeyAndRetiresItsPredecessor) {
  ASSERT_TRUE(store_->save_signing_key(key("k1", 10, 10)).ok());
  ASSERT_TRUE(store_->add_next_signing_key(key("k2", 100, 200), 100, 900).ok());
  auto keys = store_->list_signing_keys();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "k1");
  EXPECT_EQ((*keys)[0].retire_at, 900);
  EXPECT_EQ((*keys)[1].kid, "k2");
  EXPECT_EQ((*keys)[1].retire_at, 0);
  // k2 waits to sign (200 > now): no third key, and k2 keeps no retirement.
  auto waiting = store_->add_next_signing_key(key("k3", 150, 300), 150, 1000);
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().code, ErrorCode::kConflict);
  EXPECT_EQ(kids(), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(store_->list_signing_keys()->back().retire_at, 0);
  // Once k2 signs, the next rotation works; a kid taken is refused.
  EXPECT_EQ(store_->add_next_signing_key(key("k1", 250, 400), 250, 1000).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(store_->list_signing_keys()->back().retire_at, 0);  // rolled back with it
  ASSERT_TRUE(store_->add_next_signing_key(key("k3", 250, 400), 250, 1000).ok());
  EXPECT_EQ(kids(), (std::vector<std::string>{"k1", "k2", "k3"}));
}

// Two rotations at once (the CLI and the server's schedule): exactly one adds a key.
TEST_P(KeysConformance, ConcurrentRotationsAddOneKey) {
  ASSERT_TRUE(store_->save_signing_key(key("k1", 10, 10)).ok());
  constexpr int kThreads = 8;
  std::atomic<int> added{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      if (store_->add_next_signing_key(key(nth("n", i), 100, 200), 100, 900).ok()) {
        ++added;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(added.load(), 1);
  EXPECT_EQ(store_->list_signing_keys()->size(), 2u);
}

// Several nodes rotate at once (each runs the key schedule): two handles on one store, as two
// nodes (or a node and `stagepass admin keys`) open it, racing; exactly one next key lands,
// and both nodes see the same two keys.
TEST_P(KeysConformance, RotationsRacingFromTwoNodesAddOneKey) {
  ASSERT_TRUE(store_->save_signing_key(key("k1", 10, 10)).ok());
  std::unique_ptr<Store> other = instance_->open_another();
  Store* nodes[] = {store_, other.get()};
  constexpr int kThreads = 8;
  std::atomic<int> added{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto s = nodes[i % 2]->add_next_signing_key(key(nth("n", i), 100, 200), 100, 900);
      if (s.ok()) {
        ++added;
      } else if (s.error().code == ErrorCode::kConflict) {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(added.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  for (Store* node : nodes) {
    auto keys = node->list_signing_keys();
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys->size(), 2u);
    EXPECT_EQ((*keys)[0].kid, "k1");
    EXPECT_EQ((*keys)[0].retire_at, 900);  // retired once, by the one rotation that landed
    EXPECT_EQ((*keys)[1].retire_at, 0);
  }
}

// Two nodes deleting retired keys at once delete each key once: the counts add up to it.
TEST_P(KeysConformance, RetiredKeysDeletedFromTwoNodesAtOnceAreCountedOnce) {
  ASSERT_TRUE(store_->save_signing_key(key("k1", 10, 10)).ok());
  ASSERT_TRUE(store_->add_next_signing_key(key("k2", 100, 200), 100, 900).ok());
  std::unique_ptr<Store> other = instance_->open_another();
  Store* nodes[] = {store_, other.get()};
  std::atomic<int64_t> deleted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto n = nodes[i % 2]->delete_retired_signing_keys(1000);
      EXPECT_TRUE(n.ok());
      if (n.ok()) deleted += *n;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(deleted.load(), 1);
  EXPECT_EQ(kids(), (std::vector<std::string>{"k2"}));
}

TEST_P(KeysConformance, RetiredKeysAreDeletedWhenTheirTimeHasCome) {
  ASSERT_TRUE(store_->save_signing_key(key("k1", 10, 10)).ok());
  ASSERT_TRUE(store_->add_next_signing_key(key("k2", 100, 200), 100, 900).ok());
  EXPECT_EQ(*store_->delete_retired_signing_keys(899), 0);
  EXPECT_EQ(*store_->delete_retired_signing_keys(900), 1);  // retire_at is not after now
  EXPECT_EQ(kids(), (std::vector<std::string>{"k2"}));
  EXPECT_EQ(*store_->delete_retired_signing_keys(100000), 0);  // the signing key stays
}

class EventsConformance : public StoreConformance {
 protected:
  static AuditEvent event(int64_t at, std::string type, std::string user) {
    return {0, at, std::move(type), std::move(user), "c1", "192.0.2.1", "agent", "detail"};
  }
};

TEST_P(EventsConformance, APersonsEventsAreNewestFirstAndPageByIdAndAllEventsOldestFirst) {
  ASSERT_TRUE(store_->record_event(event(10, "sign_in", "u1")).ok());
  ASSERT_TRUE(store_->record_event(event(20, "consent_granted", "u1")).ok());
  ASSERT_TRUE(store_->record_event(event(25, "sign_in", "u2")).ok());
  ASSERT_TRUE(store_->record_event(event(30, "app_removed", "u1")).ok());
  auto mine = store_->user_events("u1", 0, 10);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 3u);
  EXPECT_EQ((*mine)[0].type, "app_removed");
  EXPECT_EQ((*mine)[2].type, "sign_in");
  EXPECT_GT((*mine)[0].id, (*mine)[1].id);  // ids increase with each event
  EXPECT_GT((*mine)[1].id, (*mine)[2].id);
  const AuditEvent& e = (*mine)[0];
  EXPECT_EQ(e.at, 30);
  EXPECT_EQ(e.user_id, "u1");
  EXPECT_EQ(e.client_id, "c1");
  EXPECT_EQ(e.ip, "192.0.2.1");
  EXPECT_EQ(e.user_agent, "agent");
  EXPECT_EQ(e.detail, "detail");
  // The next page: before the oldest id shown.
  auto page = store_->user_events("u1", (*mine)[1].id, 10);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].type, "sign_in");
  EXPECT_EQ(store_->user_events("u1", 0, 2)->size(), 2u);  // the limit
  auto all = store_->events_since(20, 10);
  ASSERT_TRUE(all.ok());
  std::vector<int64_t> at;
  for (const auto& x : *all) at.push_back(x.at);
  EXPECT_EQ(at, (std::vector<int64_t>{20, 25, 30}));
  EXPECT_EQ(store_->events_since(0, 1)->size(), 1u);
}

// Events written from many threads at once all land, each with its own id.
TEST_P(EventsConformance, ConcurrentEventsAllLandWithDistinctIds) {
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(store_->record_event(event(t * 100 + i, "sign_in", "u1")).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = store_->events_since(0, 1000);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kThreads * kEach));
  std::set<int64_t> ids;
  for (const auto& e : *all) ids.insert(e.id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
}

STAGEPASS_CONFORMANCE_SUITE(KeysConformance, kKeys);
STAGEPASS_CONFORMANCE_SUITE(EventsConformance, kEvents);

}  // namespace
}  // namespace stagepass::conformance

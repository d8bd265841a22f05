// The fixture every conformance case starts from: a fresh store of one backend
// (store_backends.hpp) holding person u1 (A@Example.com), app c1 (confidential, redirect URI
// https://app/cb) and u1's grant g1 of c1 (scope "streaming", consented at 100), and the
// policies the grants pass to the store.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/conformance/store_backends.hpp"
#include "store/postgresql/pg_test_support.hpp"
#include "store/store.hpp"

namespace stagepass::conformance {

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    const StoreBackend& backend = GetParam();
    std::string url;
    if (!backend.required_env.empty()) {
      const char* env = std::getenv(backend.required_env.c_str());
      STAGEPASS_PG_SKIP_UNLESS(env != nullptr && *env != '\0', backend.required_env);
      url = env;
    }
    instance_ = backend.make(url);
    store_ = &instance_->store();
    ASSERT_TRUE(store_->create_user({"u1", "A@Example.com", "A", "h", "SE", "premium", 1}).ok());
    ASSERT_TRUE(store_->create_client(app("c1")).ok());
    auto g = store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g1", 100);
    ASSERT_TRUE(g.ok());
    grant_ = *g;
  }
  void TearDown() override {
    store_ = nullptr;
    instance_.reset();
  }

  // A confidential app with secret hash "hash", redirect URI https://app/cb, created at 1.
  static Client app(const std::string& id) {
    return Client{id, "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"),
                  {}, 1};
  }
  // Another person, e-mail `<id>@x.test`.
  Status<> add_user(const std::string& id) {
    return store_->create_user({id, id + "@x.test", id, "h", "SE", "premium", 1});
  }
  // The authorization_code grant's policy for the codes of these tests (client c1, no PKCE)
  // at `now`, storing refresh token `refresh`, alive 900 s.
  static CodePolicy exchange(std::string refresh, int64_t now) {
    CodePolicy p;
    p.client_id = "c1";
    p.redirect_uri = "https://app/cb";
    p.now = now;
    p.refresh_hash = std::move(refresh);
    p.refresh_ttl = 900;
    p.refresh_idle_ttl = 900;
    return p;
  }
  // The refresh_token grant's policy: `client` rotates at `now` into `next`, with `grace`.
  static RefreshPolicy rotation(std::string next, int64_t now, int64_t grace,
                                std::string client = "c1") {
    RefreshPolicy p;
    p.client_id = std::move(client);
    p.now = now;
    p.grace_seconds = grace;
    p.successor_hash = std::move(next);
    p.idle_ttl = 900;
    return p;
  }
  // An unused code of grant g1, issued to c1 for https://app/cb, valid until 160.
  AuthorizationCode code(const std::string& hash) const {
    return {hash, grant_.id, "c1", "u1", "https://app/cb", grant_.scope, "", 100 + 60, {}};
  }
  // Puts refresh token `hash` in the store the way the server does: with the redemption of
  // an authorization code of grant g1. False if the store refused.
  bool issue_refresh(const std::string& hash) {
    AuthorizationCode c = code("code-" + hash);
    if (!store_->save_code(c).ok()) return false;
    auto r = store_->redeem_code(c.hash, exchange(hash, 100));
    return r.ok() && r->outcome == RedeemOutcome::kRedeemed;
  }
  // issue16. Has `threads` threads read an unknown refresh token at once, so a backend that
  // opens its connections lazily (PostgreSQL's pool) has them open before a race: else the
  // first presentation is over before the others have connected, and nothing races.
  void open_connections(int threads) {
    std::vector<std::thread> readers;
    for (int i = 0; i < threads; ++i) {
      readers.emplace_back([this] { (void)store_->find_refresh_token("warm-up"); });
    }
    for (auto& t : readers) t.join();
  }
  // Runs f(0) .. f(threads - 1) on as many threads released together (each waits until all
  // are started), and joins them: the concurrent cases' race.
  template <class F>
  static void race(int threads, F f) {
    std::vector<std::thread> running;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    for (int i = 0; i < threads; ++i) {
      running.emplace_back([&, i] {
        ++ready;
        while (!go.load()) std::this_thread::yield();
        f(i);
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    go = true;
    for (auto& t : running) t.join();
  }
  // "<prefix><i>": names of the many tokens and codes of the concurrent cases.
  static std::string nth(const std::string& prefix, int i) {
    std::string out = prefix;
    out += std::to_string(i);
    return out;
  }
  // A password change as the change-password page asks for it.
  static PasswordChange change(std::string hash, int64_t expected, bool revoke_grants = false,
                               std::optional<Session> session = std::nullopt) {
    return {"u1", std::move(hash), expected, std::move(session), revoke_grants, 500};
  }

  std::unique_ptr<BackendInstance> instance_;
  Store* store_ = nullptr;
  Grant grant_;
};

// Runs a conformance fixture against every backend that provides the roles its cases use
// (`roles`, Role bits; the fixture's own kFixtureRoles are added): test names end in
// /<backend name>. store_backends.hpp says why a backend may lack some.
#define STAGEPASS_CONFORMANCE_SUITE(Fixture, roles)                              \
  INSTANTIATE_TEST_SUITE_P(Backends, Fixture,                                    \
                           ::testing::ValuesIn(store_backends_providing(roles)), \
                           [](const auto& info) { return info.param.name; })

}  // namespace stagepass::conformance

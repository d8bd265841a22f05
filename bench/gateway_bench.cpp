// Google Benchmark of the Web API's whole path for GET /v1/me, in-process: Gateway::handle
// on one thread (no sockets, no HTTP parsing), through the real TokenVerifier (its cache
// included), RateLimiter, /v1 routes over a temporary SqliteMusicStore, and the request hooks
// serve.cpp installs (UsageAggregator, AppUsage, AbuseDetector). It splits the cold row of
// `make bench` (a new token on every call) into its parts (issue 17):
//   BM_SignatureOnly         the Ed25519 verification of a token alone (libsodium)
//   BM_MeWarm                one token again and again (the verified-token cache hits)
//   BM_MeNewToken            a new token each call, one person (the profile is in memory)
//   BM_MeNewTokenHooks       the same with serve.cpp's usage and abuse hooks
//   BM_MeNewTokenTenPerPerson  with the hooks, ten tokens per person in random order, as the
//                            bench's pool: a person's first call reads the profile from SQLite
//                            on the worker pool (a lower bound: the store here is small)
// Each run builds a node of its own (empty caches) and mints its tokens before it is timed.
// The figures are the whole process's CPU time and the wall time per call (the pool's work
// included). A call answered other than 200, or a signature that does not verify, makes the
// program exit 1 (make bench-smoke runs it). Run: build-bench/stagepass-bench-gateway
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "api/endpoints/web_api.hpp"
#include "api/gateway.hpp"
#include "app/tunables.hpp"
#include "checked_main.hpp"
#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "monitor/abuse_detector.hpp"
#include "monitor/app_usage.hpp"
#include "monitor/metrics.hpp"
#include "monitor/rate_limiter.hpp"
#include "monitor/usage_aggregator.hpp"
#include "music/sqlite/temp_music_store_test_support.hpp"
#include "tokens/access_token.hpp"
#include "tokens/revocation_set.hpp"
#include "tokens/token_verifier.hpp"

using namespace stagepass;
namespace asio = boost::asio;

namespace {

const std::string kIss = "http://127.0.0.1:8080";
const std::string kAud = "http://127.0.0.1:8080/v1";
const std::string kScope = "user-read-email user-read-private";
const std::string kClient(32, 'c');

// Set when a call was refused or a signature did not verify: main() then exits 1.
bool g_failed = false;

// One node's Web API: serve.cpp's pieces with the bench's settings (run.py: no rate limit or
// quota in the way) and the defaults otherwise (token cache, revocation set).
struct Node {
  SystemRandom random;
  SystemClock clock;
  music::TempMusicStore music{"sp-gateway-bench-"};
  RevocationSet revoked{3600 + 10, 1000000, 10};
  std::shared_ptr<const Keyring> keys;
  std::unique_ptr<TokenVerifier> verifier;
  RateLimiter limiter;
  Metrics metrics;
  asio::thread_pool pool{4};
  api::ApiRoutes routes;
  UsageAggregator usage{Tunables{}.usage_resolution_seconds};  // serve.cpp's
  AppUsage app_usage{1000};
  AbuseDetector abuse{AbuseSettings{}};
  std::unique_ptr<api::Gateway> plain, hooked;
  asio::io_context ioc;

  Node() {
    auto kp = crypto::ed25519_generate();
    keys = std::make_shared<const Keyring>(
        std::vector<OpenKey>{{"k1", "EdDSA", kp.public_key, kp.secret_key}});
    verifier = std::make_unique<TokenVerifier>(keys, VerifyOptions{kIss, kAud, 0, 10}, clock,
                                               random, revoked, 1000000);
    api::register_web_api(routes, *music, random);
    const api::GatewaySettings settings{kAud, 1000000000, 1000000000000};
    plain =
        std::make_unique<api::Gateway>(routes, *verifier, limiter, metrics, pool, clock, settings);
    hooked = std::make_unique<api::Gateway>(
        routes, *verifier, limiter, metrics, pool, clock, settings,
        [this](const api::Principal& p) { usage.note(p.grant_id, clock.now()); },
        [this](const api::Principal& p, const http::Request& req, int status, int64_t now_ms) {
          const std::string_view user = p.is_user() ? std::string_view(p.sub) : std::string_view();
          app_usage.note(p.client_id, group_for_path(req.path()), status, user, p.grant_id);
          abuse.note_token_use(p.jti, p.client_id, p.grant_id, user, req.remote_ip, now_ms / 1000);
        });
  }

  // A new person (with a profile when `profile`), and `n` new tokens of theirs (one grant).
  std::vector<std::string> person_tokens(int n, bool profile = true) {
    const std::string sub = random.id22();
    const std::string grant = random.id22();
    if (profile &&
        !music->upsert_profile({sub, "Bench Person", "p@example.com", "SE", "premium", 0})) {
      throw std::runtime_error("cannot store a profile");
    }
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(
          mint_access_token(*keys, {kIss, sub, kAud, kClient, kScope, clock.now(),
                                    clock.now() + 3600, random.id22(), grant, 1000000000}));
    }
    return out;
  }

  // `count` new tokens, `per_person` for each new person, in random order (a fixed seed).
  std::vector<std::string> tokens(size_t count, int per_person) {
    std::vector<std::string> out;
    while (out.size() < count) {
      auto some = person_tokens(per_person);
      out.insert(out.end(), some.begin(), some.end());
    }
    std::shuffle(out.begin(), out.end(), std::mt19937_64(17));
    return out;
  }

  int get_me(api::Gateway& gateway, const std::string& token) {
    http::Request req;
    req.msg.method_string("GET");
    req.msg.target("/v1/me");
    req.msg.insert(boost::beast::http::field::authorization, "Bearer " + token);
    req.remote_ip = "127.0.0.1";
    ioc.restart();
    auto answer = asio::co_spawn(ioc, gateway.handle(req), asio::use_future);
    ioc.run();
    return answer.get().status;
  }
};

void BM_SignatureOnly(benchmark::State& state) {
  Node n;
  const auto tokens = n.person_tokens(static_cast<int>(state.max_iterations), false);
  const std::string& public_key = n.keys->find("k1")->public_key;
  size_t i = 0;
  bool all_verified = true;
  for (auto _ : state) {
    const std::string_view t = tokens[i++];
    const auto dot = t.rfind('.');
    auto sig = base64url_decode(t.substr(dot + 1));
    all_verified &= sig && crypto::ed25519_verify(public_key, t.substr(0, dot), *sig);
  }
  if (!all_verified) {
    g_failed = true;
    state.SkipWithError("a signature did not verify");
  }
}

// Each call's answer must be 200: a refusal would time the cheap path.
void run(benchmark::State& state, Node& n, api::Gateway& gateway,
         const std::vector<std::string>& tokens, bool same_token) {
  size_t i = 0;
  int64_t refused = 0;
  for (auto _ : state) {
    if (n.get_me(gateway, same_token ? tokens.front() : tokens[i++]) != 200) ++refused;
  }
  if (refused > 0) {
    g_failed = true;
    state.SkipWithError("a call was not answered 200");
  }
}

// The warm call goes through the hooks too; most of its time is this program's own work per
// call (the request, co_spawn and the future), which the others pay as well.
void BM_MeWarm(benchmark::State& state) {
  Node n;
  run(state, n, *n.hooked, n.tokens(1, 1), true);
}
void BM_MeNewToken(benchmark::State& state) {
  Node n;
  run(state, n, *n.plain, n.person_tokens(static_cast<int>(state.max_iterations)), false);
}
void BM_MeNewTokenHooks(benchmark::State& state) {
  Node n;
  run(state, n, *n.hooked, n.person_tokens(static_cast<int>(state.max_iterations)), false);
}
void BM_MeNewTokenTenPerPerson(benchmark::State& state) {
  Node n;
  run(state, n, *n.hooked, n.tokens(static_cast<size_t>(state.max_iterations), 10), false);
}

BENCHMARK(BM_SignatureOnly)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_MeWarm)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_MeNewToken)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_MeNewTokenHooks)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_MeNewTokenTenPerPerson)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return stagepass::bench::run_checked(argc, argv, g_failed); }

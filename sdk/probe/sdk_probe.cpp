// stagepass-sdk-probe: drives the SDK from many threads for the end-to-end tests
// (tests/e2e/sdk-cli.test.mjs). Not installed.
//
//   stagepass-sdk-probe --config-dir DIR --threads 32 [--path /v1/me]
// Uses the tokens a `stagepass-cli login` left in DIR. Waits until the cached access token
// has expired, then releases all threads at once through a latch; each calls the Web API
// through the same Client. Prints {"ok":N,"failed":N,"errors":[...],"tokens":N} where
// tokens counts the distinct access tokens the threads ended up with.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "stagepass/client.hpp"

namespace sdk = stagepass::sdk;

int main(int argc, char** argv) {
  CLI::App app{"SDK probe for tests"};
  std::string issuer, client_id, config_dir, path = "/v1/me";
  int threads = 32;
  app.add_option("--issuer", issuer)->required();
  app.add_option("--client-id", client_id)->required();
  app.add_option("--config-dir", config_dir)->required();
  app.add_option("--threads", threads)->check(CLI::Range(1, 512));
  app.add_option("--path", path);
  CLI11_PARSE(app, argc, argv);

  auto store = sdk::FileTokenStore::open(config_dir);
  if (!store) {
    std::cerr << store.error().describe() << "\n";
    return 1;
  }
  sdk::ClientConfig cfg;
  cfg.issuer = issuer;
  cfg.client_id = client_id;
  cfg.refresh_skew = std::chrono::seconds(0);  // refresh only once truly expired
  auto client = sdk::Client::create(cfg, std::shared_ptr<sdk::TokenStore>(std::move(*store)));
  if (!client) {
    std::cerr << client.error().describe() << "\n";
    return 1;
  }
  auto cached = (*client)->tokens();
  if (!cached || !*cached) {
    std::cerr << "no cached tokens; log in first\n";
    return 1;
  }
  std::this_thread::sleep_until((**cached).expires_at + std::chrono::milliseconds(200));

  std::latch start(threads);
  std::mutex mu;
  int ok = 0;
  boost::json::array errors;
  std::set<std::string> tokens;
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      start.arrive_and_wait();
      auto r = (*client)->call("GET", path);
      auto t = (*client)->access_token();
      std::lock_guard lk(mu);
      if (r)
        ++ok;
      else
        errors.emplace_back(r.error().describe());
      if (t) tokens.insert(*t);
    });
  }
  for (auto& t : pool) t.join();
  boost::json::object out{
      {"ok", ok}, {"failed", threads - ok}, {"errors", errors}, {"tokens", tokens.size()}};
  std::cout << boost::json::serialize(out) << "\n";
  return ok == threads ? 0 : 1;
}

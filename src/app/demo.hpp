// --demo: one demo user and one demo app, created on first start and reused after, and the
// banner that tells a newcomer how to use them.
#pragma once

#include <string>

#include "app/config.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "store/store.hpp"

namespace stagepass::demo {

// The public client the command-line client uses by default.
inline constexpr const char* kCliClientId = "stagepass-cli";

struct DemoInfo {
  std::string email;
  std::string password;
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;
};

// Idempotent. The demo client's secret is derived from the master key, so every start can
// print it again without storing it anywhere but as a hash.
DemoInfo seed(Store& store, Random& random, const Clock& clock, const Secret& master_key);
std::string banner(const DemoInfo& demo, const Config& cfg);

}  // namespace stagepass::demo

#include "app/demo.hpp"

#include <stdexcept>

#include "app/admin.hpp"
#include "core/base64url.hpp"
#include "core/text.hpp"
#include "crypto/crypto.hpp"
#include "oauth/client_auth.hpp"

namespace stagepass::demo {

DemoInfo seed(Store& store, Random& random, const Clock& clock, const Secret& master_key) {
  DemoInfo d{"demo@stagepass.local", "stagepass-demo", "demo-player", "",
             "http://127.0.0.1:8888/callback"};
  d.client_secret =
      "sps_" + base64url_encode(crypto::hmac_sha256(master_key.reveal(), "stagepass demo client"));
  if (auto u = store.find_user_by_email(d.email); !u) {
    if (u.error().code != ErrorCode::kNotFound) throw std::runtime_error(u.error().message);
    admin::create_user(store, random, clock.now(), d.email, "Demo Listener", d.password);
  }
  if (auto c = store.find_client(d.client_id); !c) {
    if (c.error().code != ErrorCode::kNotFound) throw std::runtime_error(c.error().message);
    admin::NewClient spec{"Demo Player", {d.redirect_uri}, false, std::nullopt, {},
                          d.client_id,   d.client_secret};
    admin::create_client(store, random, clock.now(), spec);
  } else if (auto r = store.set_client_secret_hash(d.client_id,
                                                   oauth::client_secret_hash(d.client_secret));
             !r) {
    throw std::runtime_error(r.error().message);
  }
  // The command-line client (stagepass-cli) is a public native app: PKCE, no secret, and a
  // loopback redirect whose port the OS picks on each login (RFC 8252 §7.3).
  if (auto c = store.find_client(kCliClientId); !c) {
    if (c.error().code != ErrorCode::kNotFound) throw std::runtime_error(c.error().message);
    admin::NewClient spec{
        "Stagepass CLI", {"http://127.0.0.1/callback"}, true, std::nullopt, {}, kCliClientId,
        std::nullopt};
    admin::create_client(store, random, clock.now(), spec);
  }
  return d;
}

std::string banner(const DemoInfo& d, const Config& cfg) {
  const std::string& iss = cfg.issuer;
  std::string scope = "user-read-private user-read-email user-library-read";
  std::string authorize = iss + "/authorize?" +
                          form_encode({{"client_id", d.client_id},
                                       {"response_type", "code"},
                                       {"redirect_uri", d.redirect_uri},
                                       {"scope", scope},
                                       {"state", "demo-state"}});
  std::string creds = "'" + d.client_id + ":" + d.client_secret + "'";
  return "\n"
         "  Stagepass is running at " +
         iss +
         " (demo data)\n\n"
         "  Sign in as      " +
         d.email + "  /  " + d.password +
         "\n"
         "  Demo app        client_id " +
         d.client_id +
         "\n"
         "                  client_secret " +
         d.client_secret +
         "\n\n"
         "  An app token (client credentials):\n"
         "    curl -s -u " +
         creds + " -d grant_type=client_credentials " + iss +
         "/api/token\n\n"
         "  A user token: open this in a browser, sign in and click Agree:\n"
         "    " +
         authorize +
         "\n"
         "  The browser then lands on " +
         d.redirect_uri +
         "?code=...; nothing listens there.\n"
         "  Copy the code from the address bar and exchange it within " +
         std::to_string(cfg.code_ttl) +
         " s:\n"
         "    curl -s -u " +
         creds +
         " -d grant_type=authorization_code \\\n"
         "         --data-urlencode redirect_uri=" +
         d.redirect_uri + " -d code=PASTE_CODE " + iss +
         "/api/token\n\n"
         "  Or let the command-line client do all of that (app \"" +
         std::string(kCliClientId) +
         "\"):\n"
         "    build/stagepass-cli --issuer " +
         iss +
         " login\n"
         "    build/stagepass-cli api GET /v1/me\n\n";
}

}  // namespace stagepass::demo

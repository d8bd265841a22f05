// Harness: client authentication at the token endpoint (oauth/client_auth): the
// "Authorization: Basic" header (RFC 6749 §2.3.1, RFC 7617) and client_secret_post/"none"
// from the form, against a real SQLite store holding one confidential and one public client.
//
// Input: a mode byte, then
//  - even: "<Authorization header value>\n<urlencoded form body>" as an attacker sends them;
//  - odd:  "<client id>\n<client secret>", which the harness encodes the way a correct client
//          does (form-encode each part, base64 "id:secret"), so the decoder is checked
//          against its encoder: authentication succeeds exactly for the registered pair.
// Invariants: never server_error (the store is up), descriptions stay inside RFC 6749 §5.2's
// character set, invalid_client is a 401 with a Basic challenge only when Basic was used, and
// success means the right secret (or a public client without one).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "fuzz_check.hpp"
#include "oauth/client_auth.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace stagepass;

namespace {

const std::string kConfId = "conf-app";
const std::string kConfSecret = "s3cr:et+ %/&=x";  // characters that need form-encoding
const std::string kPublicId = "public-app";

struct World {
  std::unique_ptr<sqlite::SqliteStore> store;
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<oauth::GrantRevoker> revoker;  // unused by client authentication
  KeyringSlot keys{nullptr};                     // no signing: client authentication only
  std::unique_ptr<oauth::Services> services;

  World() {
    store = std::make_unique<sqlite::SqliteStore>(
        (fuzz::scratch_dir("basic_auth") / "accounts.db").string(), 1);
    Client conf{kConfId,
                "Confidential",
                false,
                oauth::client_secret_hash(kConfSecret),
                {"https://app.example/cb"},
                ScopeSet::parse("streaming"),
                {},
                1};
    Client pub{kPublicId, "Public", true, "", {"http://127.0.0.1/cb"}, ScopeSet::parse("streaming"),
               {},        1};
    if (!store->create_client(conf).ok() || !store->create_client(pub).ok()) std::abort();
    revoker = std::make_unique<oauth::GrantRevoker>(*store, clock, nullptr, nullptr);
    services.reset(new oauth::Services{.clients = *store,
                                       .grants = *store,
                                       .codes = *store,
                                       .refresh_tokens = *store,
                                       .users = *store,
                                       .keys = keys,
                                       .clock = clock,
                                       .random = random,
                                       .settings = {},
                                       .revoker = *revoker,
                                       .audit = {}});
  }
};

World& world() {
  static World w;
  return w;
}

// RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ).
bool description_ok(std::string_view d) {
  for (unsigned char c : d) {
    if (c < 0x20 || c == 0x22 || c == 0x5c || c > 0x7e) return false;
  }
  return true;
}

void check_common(const Result<oauth::AuthenticatedClient, oauth::OAuthError>& r, bool basic,
                  std::string_view in) {
  if (r) {
    FUZZ_CHECK(r->client.id == kConfId || r->client.id == kPublicId, in);
    // A public client has no secret, and Basic always carries one: it authenticates only by
    // naming itself in the form.
    if (r->client.id == kPublicId) FUZZ_CHECK(!basic, in);
    return;
  }
  const auto& e = r.error();
  FUZZ_CHECK(e.code != "server_error", in);
  FUZZ_CHECK(e.code == "invalid_client" || e.code == "invalid_request", in);
  FUZZ_CHECK(description_ok(e.description), e.description);
  FUZZ_CHECK((e.code == "invalid_client") == (e.status == 401), in);
  if (e.basic_challenge) FUZZ_CHECK(basic && e.status == 401, in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = world();
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nl = in.find('\n');
  std::string_view first = in.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  if ((data[0] & 1) == 0) {
    auto form = Form::parse(rest);
    if (!form) return 0;  // the endpoint answers invalid_request before client auth
    auto r = oauth::authenticate_client(*w.services, first, *form);
    check_common(r, !first.empty(), in);
    if (r && first.empty()) {
      // client_secret_post with the right secret, or a public client that sent none.
      FUZZ_CHECK(
          form->get("client_secret") ==
              (r->client.id == kConfId ? std::optional<std::string>(kConfSecret) : std::nullopt),
          in);
    }
    return 0;
  }

  // A well-behaved client: form-encode id and secret, then base64 "id:secret".
  std::string header = "Basic " + base64_encode(percent_encode(first) + ":" + percent_encode(rest));
  auto r = oauth::authenticate_client(*w.services, header, Form{});
  check_common(r, true, in);
  bool right = first == kConfId && rest == kConfSecret;
  FUZZ_CHECK(r.ok() == right, in);
  return 0;
}

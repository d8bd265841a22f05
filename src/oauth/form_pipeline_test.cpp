// The steps the form endpoints share (form_pipeline.hpp), through the pipeline as the server
// runs it: one Authorization header, the form parsed once, client authentication, grant
// dispatch, no-store, CORS for registered origins, metrics with bounded labels, and the pool
// each kind of work runs on.
#include "oauth/form_pipeline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "oauth/oauth_test_support.hpp"

namespace stagepass::oauth::testing {
namespace {

const std::string kClientCredentials = "grant_type=client_credentials";

class FormPipelineTest : public ::testing::Test {
 protected:
  // How many times the answer carries header `name`.
  static int count_of(const http::Response& r, std::string_view name) {
    int n = 0;
    for (const auto& h : r.headers) n += iequals(h.first, name);
    return n;
  }
  // The value of a counter series in /metrics, 0 when absent.
  uint64_t series(const std::string& grant, int status) {
    const std::string name = "stagepass_token_requests_total{grant_type=\"" + grant +
                             "\",status=\"" + std::to_string(status) + "\"} ";
    const std::string text = server_.metrics.render();
    auto at = text.find(name);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size()));
  }

  AuthorizationServer server_;
};

TEST_F(FormPipelineTest, TwoAuthorizationHeadersAreRefusedBeforeAnythingElse) {
  Headers two = basic(kConfId, kConfSecret);
  two.push_back(basic(kConfId, kConfSecret).front());
  for (const FormEndpoint* e : std::initializer_list<const FormEndpoint*>{
           &server_.tokens, &server_.revocation, &server_.introspection}) {
    auto r = server_.post(*e, kClientCredentials + "&token=x", two);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_of(r), WireError("invalid_request", "more than one Authorization header"));
    EXPECT_EQ(r.log_client_id, "");  // nobody was authenticated
  }
  EXPECT_EQ(series("none", 400), 1u);
}

TEST_F(FormPipelineTest, OnlyFormBodiesAreAccepted) {
  for (const char* type : {"application/json", "text/plain", "multipart/form-data", ""}) {
    auto r = server_.token(kClientCredentials,
                           {{"Content-Type", type}, basic(kConfId, kConfSecret).front()});
    EXPECT_EQ(r.status, 400) << type;
    EXPECT_EQ(error_of(r).second, "body must be application/x-www-form-urlencoded") << type;
  }
  // Parameters and case of the media type do not matter (RFC 9110 §8.3.1).
  auto ok = server_.token(kClientCredentials,
                          {{"Content-Type", "Application/X-WWW-Form-URLEncoded; charset=UTF-8"},
                           basic(kConfId, kConfSecret).front()});
  EXPECT_EQ(ok.status, 200);
}

TEST_F(FormPipelineTest, ARepeatedOrMalformedParameterIsRefused) {
  // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
  auto repeated = server_.token(kClientCredentials + "&scope=streaming&scope=user-read-email",
                                basic(kConfId, kConfSecret));
  EXPECT_EQ(repeated.status, 400);
  EXPECT_EQ(error_of(repeated).second, "parameter repeated: 'scope'");
  auto twice = server_.post(server_.revocation, "token=a&token=b", basic(kConfId, kConfSecret));
  EXPECT_EQ(error_of(twice).second, "parameter repeated: 'token'");
  auto malformed = server_.token("grant_type=%zz", basic(kConfId, kConfSecret));
  EXPECT_EQ(error_of(malformed), WireError("invalid_request", "malformed form body"));
}

TEST_F(FormPipelineTest, GrantTypeIsCheckedAfterTheClientIsAuthenticated) {
  auto unsupported =
      server_.token("grant_type=password&username=a&password=b", basic(kConfId, kConfSecret));
  EXPECT_EQ(unsupported.status, 400);
  EXPECT_EQ(error_of(unsupported).first, "unsupported_grant_type");
  EXPECT_EQ(unsupported.log_client_id, kConfId);
  // Without a client, the client is what is wrong (RFC 6749 §3.2.1 before §4).
  auto anonymous = server_.token("grant_type=password");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(error_of(anonymous).first, "invalid_client");
  auto missing = server_.token("scope=streaming", basic(kConfId, kConfSecret));
  EXPECT_EQ(error_of(missing), WireError("invalid_request", "grant_type is required"));
}

TEST_F(FormPipelineTest, APublicClientCannotUseClientCredentials) {
  // RFC 6749 §4.4: the client credentials grant type MUST only be used by confidential clients.
  auto r = server_.token(kClientCredentials + "&client_id=" + kPublicId);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r).first, "unauthorized_client");
  auto ok = server_.token(kClientCredentials, basic(kConfId, kConfSecret));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.log_client_id, kConfId);
}

TEST_F(FormPipelineTest, EveryAnswerOfEveryEndpointIsNoStore) {
  const auto conf = basic(kConfId, kConfSecret);
  std::vector<http::Response> answers = {
      server_.token(kClientCredentials, conf),                              // 200
      server_.token("grant_type=password", conf),                           // 400 from the endpoint
      server_.token(kClientCredentials, basic(kConfId, "wrong")),           // 401 from client auth
      server_.token(kClientCredentials, {{"Content-Type", "text/plain"}}),  // 400 from parsing
      server_.post(server_.revocation, "token=unknown", conf),              // 200
      server_.post(server_.introspection, "token=unknown", conf),           // 200
      server_.post(server_.introspection, "", conf),                        // 400
  };
  for (const auto& r : answers) {
    // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache, once each.
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-store") << r.status << r.body;
    EXPECT_EQ(header_of(r, "Pragma"), "no-cache") << r.status << r.body;
    EXPECT_EQ(count_of(r, "Cache-Control"), 1) << r.status << r.body;
    EXPECT_EQ(count_of(r, "Pragma"), 1) << r.status << r.body;
  }
}

TEST_F(FormPipelineTest, CorsAnswersOnlyRegisteredOrigins) {
  const auto conf = basic(kConfId, kConfSecret).front();
  auto registered = server_.token(kClientCredentials, {conf, {"Origin", kWebOrigin}});
  EXPECT_EQ(header_of(registered, "Access-Control-Allow-Origin"), kWebOrigin);
  EXPECT_EQ(header_of(registered, "Vary"), "Origin");
  EXPECT_EQ(header_of(registered, "Access-Control-Allow-Credentials"), "");
  // An error answer to a registered origin is readable too (the app shows it).
  auto refused = server_.token("grant_type=password", {conf, {"Origin", kWebOrigin}});
  EXPECT_EQ(header_of(refused, "Access-Control-Allow-Origin"), kWebOrigin);
  for (const std::string& origin :
       {std::string("https://evil.example"), kWebOrigin + ".evil.example", std::string("null"),
        std::string("https://SPA.example")}) {
    auto r = server_.token(kClientCredentials, {conf, {"Origin", origin}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "") << origin;
    EXPECT_EQ(header_of(r, "Vary"), "Origin") << origin;
  }
  // The set is what the composition root last fed in.
  server_.cors.set_origins({});
  auto removed = server_.token(kClientCredentials, {conf, {"Origin", kWebOrigin}});
  EXPECT_EQ(header_of(removed, "Access-Control-Allow-Origin"), "");
}

// The routes the composition root mounts: POST runs the pipeline, OPTIONS is the preflight.
TEST_F(FormPipelineTest, MountedRoutesAnswerPreflightsAndPosts) {
  http::Router router;
  server_.pipeline.mount(router, "/api/token", server_.tokens);
  auto route = [&](http::Request& req) {
    boost::asio::io_context io;
    http::Response out;
    boost::asio::co_spawn(io, router.route(req), [&](std::exception_ptr e, http::Response r) {
      if (e) std::rethrow_exception(e);
      out = std::move(r);
    });
    io.run();
    return out;
  };
  for (const auto& [origin, allowed] :
       {std::pair{kWebOrigin, kWebOrigin},
        std::pair{std::string("https://evil.example"), std::string()}}) {
    http::Request preflight =
        form_post("", {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
    preflight.msg.method(http::beast_http::verb::options);
    auto r = route(preflight);
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), allowed);
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Methods"), "POST");
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Headers"), "Authorization, Content-Type");
    EXPECT_EQ(header_of(r, "Access-Control-Max-Age"), "86400");
  }
  http::Request post = form_post(kClientCredentials, basic(kConfId, kConfSecret));
  EXPECT_EQ(route(post).status, 200);
}

TEST_F(FormPipelineTest, MetricsLabelsStayBounded) {
  const auto conf = basic(kConfId, kConfSecret);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(server_.token("grant_type=made-up-" + std::to_string(i), conf).status, 400);
  }
  EXPECT_EQ(server_.token(kClientCredentials, conf).status, 200);
  EXPECT_EQ(server_.token(kClientCredentials, basic(kConfId, "wrong")).status, 401);
  EXPECT_EQ(server_.token("grant_type=refresh_token&refresh_token=spr_x", conf).status, 400);
  EXPECT_EQ(series("other", 400), 20u);
  EXPECT_EQ(series("client_credentials", 200), 1u);
  EXPECT_EQ(series("none", 401), 1u);  // failed before the grant type was dispatched
  EXPECT_EQ(series("refresh_token", 400), 1u);
  // Whatever the requests named, only these grant_type labels exist.
  const std::string text = server_.metrics.render();
  for (size_t at = text.find("grant_type=\""); at != std::string::npos;
       at = text.find("grant_type=\"", at + 1)) {
    const std::string label = text.substr(at + 12, text.find('"', at + 12) - at - 12);
    EXPECT_TRUE(label == "authorization_code" || label == "refresh_token" ||
                label == "client_credentials" || label == "other" || label == "none")
        << label;
  }
  // The revocation and introspection endpoints are not counted as token requests.
  uint64_t before = series("none", 401);
  server_.post(server_.revocation, "token=x");
  EXPECT_EQ(series("none", 401), before);
}

// Grants that write wait for a group commit, so they run on the commit pool; the rest on the
// store pool, or (issue17:cc-inline) on the I/O thread when they need no store and the client
// is in the store's memory. The handler is the one chosen on the I/O thread.
class PoolProbe final : public GrantHandler {
 public:
  enum class Needs { kCommit, kStoreRead, kNothing };
  PoolProbe(std::string type, Needs needs, AuthorizationServer& server)
      : type_(std::move(type)), needs_(needs), server_(server) {}
  std::string_view grant_type() const override { return type_; }
  bool allows_public_clients() const override { return true; }
  bool waits_for_commit() const override { return needs_ == Needs::kCommit; }
  bool answers_from_memory() const override { return needs_ == Needs::kNothing; }
  Result<TokenResponse, OAuthError> handle(const Form&, const AuthenticatedClient&) const override {
    if (server_.commit_pool.get_executor().running_in_this_thread()) {
      ran_on = "commit pool";
    } else if (server_.store_pool.get_executor().running_in_this_thread()) {
      ran_on = "store pool";
    } else {
      ran_on = "I/O thread";
    }
    ++calls;
    return TokenResponse{"at", 1, "", std::nullopt};
  }
  mutable std::string ran_on;
  mutable int calls = 0;

 private:
  std::string type_;
  Needs needs_;
  AuthorizationServer& server_;
};

// issue15-fix:abuse: with the block on, an address that guessed secrets is refused before any
// secret is checked (even the right one: no answer tells it a guess was right), with 429 and
// Retry-After; the app it named is untouched and other addresses go on.
TEST_F(FormPipelineTest, ASourceThatGuessedSecretsIsRefusedBeforeAuthentication) {
  AbuseSettings settings;
  settings.invalid_client = {3, 600};
  settings.block_guessing_sources = true;
  AbuseDetector abuse(settings);
  server_.services.abuse = &abuse;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(server_.token(kClientCredentials, basic(kConfId, "wrong")).status, 401);
  }
  auto refused = server_.token(kClientCredentials, basic(kConfId, kConfSecret));
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(error_of(refused).first, "slow_down");
  EXPECT_EQ(header_of(refused, "Retry-After"), "600");
  EXPECT_EQ(header_of(refused, "Cache-Control"), "no-store");
  EXPECT_EQ(refused.log_client_id, "");  // nobody was authenticated
  auto revoke = server_.post(server_.revocation, "token=x", basic(kConfId, kConfSecret));
  EXPECT_EQ(revoke.status, 429);
  auto found = abuse.drain();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].client_id, kConfId);  // what was presented; the responder checks it
  server_.clock.advance(600);
  EXPECT_EQ(server_.token(kClientCredentials, basic(kConfId, kConfSecret)).status, 200);
  server_.services.abuse = nullptr;
}

TEST_F(FormPipelineTest, WorkRunsOnThePoolItWaitsFor) {
  TokenEndpoint tokens;
  using Needs = PoolProbe::Needs;
  auto writes = std::make_unique<PoolProbe>("writes", Needs::kCommit, server_);
  auto reads = std::make_unique<PoolProbe>("reads", Needs::kStoreRead, server_);
  auto signs = std::make_unique<PoolProbe>("signs", Needs::kNothing, server_);
  const PoolProbe& w = *writes;
  const PoolProbe& r = *reads;
  const PoolProbe& m = *signs;
  tokens.add_grant(std::move(writes));
  tokens.add_grant(std::move(reads));
  tokens.add_grant(std::move(signs));
  const auto conf = basic(kConfId, kConfSecret);
  // The client is not in memory yet: work that needs no store waits for the store pool too.
  EXPECT_EQ(server_.post(tokens, "grant_type=signs", conf).status, 200);
  EXPECT_EQ(m.ran_on, "store pool");
  EXPECT_EQ(server_.post(tokens, "grant_type=writes", conf).status, 200);
  EXPECT_EQ(w.ran_on, "commit pool");
  EXPECT_EQ(server_.post(tokens, "grant_type=reads", conf).status, 200);
  EXPECT_EQ(r.ran_on, "store pool");
  // Now it is: that work stays on the I/O thread, the rest goes on waiting for its pool.
  EXPECT_EQ(server_.post(tokens, "grant_type=signs", conf).status, 200);
  EXPECT_EQ(m.ran_on, "I/O thread");
  EXPECT_EQ(server_.post(tokens, "grant_type=reads", conf).status, 200);
  EXPECT_EQ(r.ran_on, "store pool");
  // A wrong secret is refused from memory too.
  EXPECT_EQ(error_of(server_.post(tokens, "grant_type=signs", basic(kConfId, "wrong"))).first,
            "invalid_client");
  EXPECT_EQ(m.calls, 2);
  EXPECT_EQ(w.calls, 1);
  EXPECT_EQ(r.calls, 2);
}

// issue17:cc-inline. An app suspended or deleted by another process (here a second store on
// the same file) is refused at its next request, though it was answered from memory before.
TEST_F(FormPipelineTest, AnAppSuspendedOrDeletedByAnotherProcessIsRefusedAtOnce) {
  const auto conf = basic(kConfId, kConfSecret);
  ASSERT_EQ(server_.token(kClientCredentials, conf).status, 200);  // read by a worker
  ASSERT_EQ(server_.token(kClientCredentials, conf).status, 200);  // from memory
  ASSERT_TRUE(server_.store->find_client_in_memory(kConfId).has_value());
  sqlite::SqliteStore other(server_.store.path(), 1);
  ASSERT_TRUE(other.set_client_suspension(kConfId, kStart, "abuse").ok());
  auto suspended = server_.token(kClientCredentials, conf);
  EXPECT_EQ(suspended.status, 401);
  EXPECT_EQ(error_of(suspended), WireError("invalid_client", "this app is suspended: abuse"));
  EXPECT_EQ(server_.token(kClientCredentials, conf).status, 401);  // and from memory
  ASSERT_TRUE(other.delete_client(kConfId, kStart).ok());
  auto deleted = server_.token(kClientCredentials, conf);
  EXPECT_EQ(deleted.status, 401);
  EXPECT_EQ(error_of(deleted), WireError("invalid_client", "client authentication failed"));
}

}  // namespace
}  // namespace stagepass::oauth::testing

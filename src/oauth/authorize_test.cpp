// Validation of an authorization request (AuthorizeFlow, RFC 6749 §4.1.1-4.1.2.1, RFC 7636,
// RFC 9207) on a real store: until client and redirect URI are trusted an error is a page,
// never a redirect; after, the error goes back to the app with state and iss.
#include "oauth/authorize.hpp"

#include <gtest/gtest.h>

#include "oauth/oauth_test_support.hpp"

namespace stagepass::oauth::testing {
namespace {

class AuthorizeTest : public ::testing::Test {
 protected:
  // The parameters of a valid request of the confidential app, with `changes` applied: a
  // value replaces the parameter, an empty value removes it; new names are appended.
  static Form params(const Headers& changes = {}) {
    Headers p = {{"client_id", kConfId},
                 {"response_type", "code"},
                 {"redirect_uri", kRedirect},
                 {"scope", "streaming"},
                 {"state", "xyz"}};
    for (const auto& change : changes) {
      // Not a structured binding: clang 14 (the sanitizer build) cannot capture one.
      const std::string& name = change.first;
      const std::string& value = change.second;
      auto it = std::find_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == name; });
      if (it == p.end()) {
        p.emplace_back(name, value);
      } else if (value.empty()) {
        p.erase(it);
      } else {
        it->second = value;
      }
    }
    return *Form::parse(form_encode(p));
  }
  AuthorizeOutcome validate(const Headers& changes = {}) {
    return server_.authorize.validate(params(changes));
  }
  // The error page's message, or "" when the outcome is something else.
  static std::string page_of(const AuthorizeOutcome& o) {
    auto* page = std::get_if<ErrorPage>(&o);
    return page ? page->message : "";
  }
  // The query of an error redirect to the registered redirect URI (empty otherwise).
  static Form redirect_of(const AuthorizeOutcome& o) {
    auto* r = std::get_if<ErrorRedirect>(&o);
    if (!r || !r->location.starts_with(kRedirect + "?")) return Form{};
    return Form::parse(r->location.substr(kRedirect.size() + 1)).value_or(Form{});
  }

  AuthorizationServer server_;
};

TEST_F(AuthorizeTest, AValidRequestIsTakenApart) {
  auto o = validate(
      {{"code_challenge", kChallenge}, {"code_challenge_method", "S256"}, {"show_dialog", "true"}});
  auto* req = std::get_if<AuthorizeRequest>(&o);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->client.id, kConfId);
  EXPECT_EQ(req->redirect_uri, kRedirect);
  EXPECT_EQ(req->state, "xyz");
  EXPECT_EQ(req->scope.str(), "streaming");
  EXPECT_EQ(req->code_challenge, kChallenge);
  EXPECT_TRUE(req->show_dialog);
}

TEST_F(AuthorizeTest, UntrustedClientOrRedirectUriGetsAPageNeverARedirect) {
  EXPECT_EQ(page_of(validate({{"client_id", ""}})),
            "The request names no application (client_id is missing).");
  EXPECT_EQ(page_of(validate({{"client_id", "no-such-app"}})), "The application is unknown.");
  EXPECT_EQ(page_of(validate({{"redirect_uri", ""}})), "The request has no redirect_uri.");
  EXPECT_EQ(page_of(validate({{"redirect_uri", "https://evil.example/cb"}})),
            "The redirect URI is not registered for this application.");
  EXPECT_EQ(page_of(validate({{"redirect_uri", kRedirect + "/"}})),
            "The redirect URI is not registered for this application.");
  // A repeated client_id or redirect_uri cannot be trusted either.
  Form twice = *Form::parse(form_encode({{"client_id", kConfId},
                                         {"client_id", kOtherId},
                                         {"redirect_uri", kRedirect},
                                         {"response_type", "code"}}));
  EXPECT_EQ(page_of(server_.authorize.validate(twice)), "client_id is repeated");
}

TEST_F(AuthorizeTest, OtherErrorsGoBackToTheAppWithStateAndIssuer) {
  const std::vector<std::tuple<Headers, std::string, std::string>> cases = {
      {{{"response_type", ""}}, "invalid_request", "response_type is required"},
      {{{"response_type", "token"}},
       "unsupported_response_type",
       "only response_type=code is supported"},
      {{{"scope", "streaming admin"}}, "invalid_scope", "unknown scope: 'admin'"},
      {{{"scope", "user-top-read"}}, "invalid_scope", "scope not allowed for this application"},
      {{{"code_challenge", kChallenge}, {"code_challenge_method", "plain"}},
       "invalid_request",
       "code_challenge_method must be S256"},
      {{{"code_challenge", kChallenge}},  // RFC 7636 §4.3 would default to plain
       "invalid_request",
       "code_challenge_method must be S256"},
      {{{"code_challenge_method", "S256"}}, "invalid_request", "code_challenge is required"},
      {{{"code_challenge", "too-short"}, {"code_challenge_method", "S256"}},
       "invalid_request",
       "code_challenge is malformed"},
  };
  for (const auto& [changes, error, description] : cases) {
    Form q = redirect_of(validate(changes));
    EXPECT_EQ(q.get("error"), error) << description;
    EXPECT_EQ(q.get("error_description"), description);
    EXPECT_EQ(q.get("state"), "xyz") << description;
    EXPECT_EQ(q.get("iss"), "https://issuer.example") << description;  // RFC 9207 §2
  }
  // A parameter repeated after the redirect URI is trusted: an error redirect too.
  Form repeated = *Form::parse(form_encode({{"client_id", kConfId},
                                            {"redirect_uri", kRedirect},
                                            {"response_type", "code"},
                                            {"scope", "streaming"},
                                            {"scope", "user-read-email"}}));
  Form q = redirect_of(server_.authorize.validate(repeated));
  EXPECT_EQ(q.get("error_description"), "parameter repeated: 'scope'");
}

TEST_F(AuthorizeTest, APublicClientMustUsePkce) {
  // RFC 9700 §2.1.1: public clients MUST use PKCE.
  auto o = validate({{"client_id", kPublicId}, {"redirect_uri", kPublicRedirect}});
  auto* r = std::get_if<ErrorRedirect>(&o);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->location.find("PKCE"), std::string::npos) << r->location;
  auto with_pkce = validate({{"client_id", kPublicId},
                             {"redirect_uri", kPublicRedirect},
                             {"code_challenge", kChallenge},
                             {"code_challenge_method", "S256"}});
  EXPECT_NE(std::get_if<AuthorizeRequest>(&with_pkce), nullptr);
}

TEST_F(AuthorizeTest, RememberedConsentSkipsThePageOnlyWhereTheRedirectIdentifiesTheApp) {
  auto request = [&](const Headers& changes) {
    return std::get<AuthorizeRequest>(validate(changes));
  };
  AuthorizeRequest conf = request({});
  EXPECT_FALSE(server_.authorize.consent_covers(conf, kUserId));
  server_.code_for(kConfId, "streaming user-read-email", kRedirect);  // consent given
  EXPECT_TRUE(server_.authorize.consent_covers(conf, kUserId));
  EXPECT_FALSE(
      server_.authorize.consent_covers(request({{"scope", "user-read-private"}}), kUserId));
  // A public app on a loopback redirect: anyone can start its flow, so the page always shows.
  AuthorizeRequest pub = request({{"client_id", kPublicId},
                                  {"redirect_uri", kPublicRedirect},
                                  {"code_challenge", kChallenge},
                                  {"code_challenge_method", "S256"}});
  server_.code_for(kPublicId, "streaming", kPublicRedirect, kChallenge);
  EXPECT_FALSE(server_.authorize.consent_covers(pub, kUserId));
}

TEST_F(AuthorizeTest, ADenialIsAnAccessDeniedRedirect) {
  Form q =
      redirect_of(ErrorRedirect{server_.authorize.deny(std::get<AuthorizeRequest>(validate()))});
  EXPECT_EQ(q.get("error"), "access_denied");
  EXPECT_EQ(q.get("state"), "xyz");
}

}  // namespace
}  // namespace stagepass::oauth::testing

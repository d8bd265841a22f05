// Client authentication (client_auth.hpp, RFC 6749 §2.3): HTTP Basic with form-encoded parts,
// client_secret_post, "none" for public clients, and the refusals - against the real store,
// then on the wire through the token endpoint (WWW-Authenticate only for Basic).
#include "oauth/client_auth.hpp"

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "oauth/oauth_test_support.hpp"

namespace stagepass::oauth::testing {
namespace {

class ClientAuthTest : public ::testing::Test {
 protected:
  // authenticate_client on this Authorization header and form body.
  Result<AuthenticatedClient, OAuthError> auth(std::string_view authorization,
                                               std::string_view body = "") {
    auto form = Form::parse(body);
    EXPECT_TRUE(form.has_value()) << body;
    return authenticate_client(server_.services, authorization, form.value_or(Form{}));
  }
  static std::string basic_of(std::string_view id, std::string_view secret) {
    return basic(id, secret).front().second;
  }
  // The refusal's code, description and whether it challenges for Basic.
  static std::tuple<std::string, std::string, int, bool> refusal(
      const Result<AuthenticatedClient, OAuthError>& r) {
    EXPECT_FALSE(r.ok());
    if (r.ok()) return {};
    const OAuthError& e = r.error();
    return {e.code, e.description, e.status, e.basic_challenge};
  }

  // authenticate_client_in_memory on this Authorization header (no body).
  std::optional<Result<AuthenticatedClient, OAuthError>> from_memory(
      std::string_view authorization) {
    return authenticate_client_in_memory(server_.services, authorization, Form{}, "10.0.0.1");
  }

  AuthorizationServer server_;
};

TEST_F(ClientAuthTest, BasicDecodesFormEncodedIdAndSecret) {
  // The secret holds ':', '+', ' ', '%', '/', '&' and '=': each must be form-encoded, so the
  // first ':' of the decoded header separates id and secret.
  auto r = auth(basic_of(kConfId, kConfSecret));
  ASSERT_TRUE(r.ok()) << r.error().description;
  EXPECT_EQ(r->client.id, kConfId);
  // Sent raw, the secret's "% /" is no escape: the credentials are malformed, not a secret.
  auto raw = auth("Basic " + base64_encode(kConfId + ":" + kConfSecret));
  EXPECT_EQ(refusal(raw), std::make_tuple(std::string("invalid_client"),
                                          std::string("malformed Basic credentials"), 401, true));
  // And "+" is a space: the secret's own "+" travels as %2B, a raw "+" means another secret.
  EXPECT_TRUE(auth("Basic " + base64_encode(kConfId + ":s3cr%3Aet%2B%20%25%2F%26%3Dx")).ok());
  auto plus_raw = auth("Basic " + base64_encode(kConfId + ":s3cr%3Aet+%20%25%2F%26%3Dx"));
  EXPECT_EQ(std::get<1>(refusal(plus_raw)), "client authentication failed");
  // The scheme name is case-insensitive in the two spellings clients use.
  EXPECT_TRUE(auth("basic " + basic_of(kConfId, kConfSecret).substr(6)).ok());
}

TEST_F(ClientAuthTest, MalformedBasicCredentialsAreInvalidClient) {
  const std::vector<std::string> malformed = {
      "Basic " + base64_encode("no-colon"),
      "Basic !!!not-base64!!!",
      "Basic " + base64_encode(":" + kConfSecret),        // empty id
      "Basic " + base64_encode("conf%zz-app:secret"),     // bad escape in the id
      "Basic " + base64_encode(kConfId + ":bad%escape"),  // bad escape in the secret
      "Basic ",
  };
  for (const auto& header : malformed) {
    EXPECT_EQ(refusal(auth(header)),
              std::make_tuple(std::string("invalid_client"),
                              std::string("malformed Basic credentials"), 401, true))
        << header;
  }
  // Another scheme is not Basic: no Basic challenge for it.
  EXPECT_EQ(refusal(auth("Bearer abc", "client_id=" + kConfId)),
            std::make_tuple(std::string("invalid_client"),
                            std::string("unsupported Authorization scheme"), 401, false));
}

TEST_F(ClientAuthTest, ABodyClientIdMustBeTheBasicOne) {
  EXPECT_TRUE(auth(basic_of(kConfId, kConfSecret), "client_id=" + kConfId).ok());
  EXPECT_EQ(
      refusal(auth(basic_of(kConfId, kConfSecret), "client_id=" + kOtherId)),
      std::make_tuple(std::string("invalid_request"),
                      std::string("client_id does not match the Basic credentials"), 400, false));
}

TEST_F(ClientAuthTest, TwoMethodsAtOnceAreRefused) {
  // RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request.
  EXPECT_EQ(refusal(auth(basic_of(kConfId, kConfSecret),
                         "client_id=" + kConfId + "&client_secret=" + percent_encode(kConfSecret))),
            std::make_tuple(std::string("invalid_request"),
                            std::string("more than one client authentication method"), 400, false));
}

TEST_F(ClientAuthTest, SecretPostAndPublicClients) {
  auto post = auth("", "client_id=" + kConfId + "&client_secret=" + percent_encode(kConfSecret));
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->client.id, kConfId);
  auto pub = auth("", "client_id=" + kPublicId);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->client.is_public);
  // A confidential client that names itself without a secret is not authenticated.
  EXPECT_EQ(std::get<0>(refusal(auth("", "client_id=" + kConfId))), "invalid_client");
  EXPECT_EQ(refusal(auth("", "")),
            std::make_tuple(std::string("invalid_client"),
                            std::string("client authentication required"), 401, false));
}

TEST_F(ClientAuthTest, APublicClientWithASecretIsRefused) {
  EXPECT_EQ(refusal(auth("", "client_id=" + kPublicId + "&client_secret=guess")),
            std::make_tuple(std::string("invalid_client"),
                            std::string("public clients do not have a secret"), 401, false));
  EXPECT_EQ(refusal(auth(basic_of(kPublicId, ""))),
            std::make_tuple(std::string("invalid_client"),
                            std::string("public clients do not have a secret"), 401, true));
}

TEST_F(ClientAuthTest, WrongSecretsAndUnknownClientsAnswerAlike) {
  const auto failed = [](bool basic) {
    return std::make_tuple(std::string("invalid_client"),
                           std::string("client authentication failed"), 401, basic);
  };
  EXPECT_EQ(refusal(auth(basic_of(kConfId, "wrong"))), failed(true));
  EXPECT_EQ(refusal(auth(basic_of("no-such-app", kConfSecret))), failed(true));
  EXPECT_EQ(refusal(auth(basic_of(kConfId, kOtherSecret))), failed(true));  // another's secret
  EXPECT_EQ(refusal(auth("", "client_id=" + kConfId + "&client_secret=wrong")), failed(false));
  EXPECT_EQ(refusal(auth("", "client_id=no-such-app&client_secret=x")), failed(false));
}

// On the wire: RFC 6749 §5.2 - a client that used Basic gets 401 with WWW-Authenticate; one
// that authenticated in the body gets 401 without it.
TEST_F(ClientAuthTest, OnlyBasicGetsAChallengeOnTheWire) {
  auto with_basic = server_.token("grant_type=client_credentials", basic(kConfId, "wrong"));
  EXPECT_EQ(with_basic.status, 401);
  EXPECT_EQ(header_of(with_basic, "WWW-Authenticate"),
            "Basic realm=\"stagepass\", charset=\"UTF-8\"");
  EXPECT_EQ(json_of(with_basic).at("error"), "invalid_client");
  auto in_body =
      server_.token("grant_type=client_credentials&client_id=" + kConfId + "&client_secret=wrong");
  EXPECT_EQ(in_body.status, 401);
  EXPECT_EQ(header_of(in_body, "WWW-Authenticate"), "");
  EXPECT_EQ(json_of(in_body).at("error"), "invalid_client");
}

// issue17:cc-inline. From memory, the answers are authenticate_client's, once the store holds
// the client in memory; until then (and for a client it does not know) nothing is decided.
TEST_F(ClientAuthTest, FromMemoryAnswersOnlyForAClientTheStoreHoldsInMemory) {
  const std::string right = basic_of(kConfId, kConfSecret);
  EXPECT_FALSE(from_memory(right).has_value());  // never read: the worker's work
  ASSERT_TRUE(auth(right).ok());                 // read once, on a worker thread
  server_.clock.advance(7);
  auto known = from_memory(right);
  ASSERT_TRUE(known.has_value());
  ASSERT_TRUE(known->ok());
  EXPECT_EQ((*known)->client.id, kConfId);
  EXPECT_EQ((*known)->secret_id, auth(right)->secret_id);
  EXPECT_EQ((*known)->read_since, server_.clock.now());  // a token may take it as its iat
  EXPECT_FALSE(auth(right)->read_since.has_value());     // a worker's read: reconfirmed later
  // A wrong secret is refused from memory, as by the worker; an unknown client is not known.
  auto wrong = from_memory(basic_of(kConfId, "wrong"));
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(refusal(*wrong), refusal(auth(basic_of(kConfId, "wrong"))));
  EXPECT_FALSE(from_memory(basic_of("nobody", "x")).has_value());
  auto malformed = from_memory("Basic !!!");
  ASSERT_TRUE(malformed.has_value());
  EXPECT_EQ(std::get<0>(refusal(*malformed)), "invalid_client");
}

// A change another process commits to the client (here a second store on the same file) is
// never answered from memory: the next answer is the worker's, with the new secret.
TEST_F(ClientAuthTest, FromMemoryNeverAnswersWithAClientChangedByAnotherProcess) {
  ASSERT_TRUE(auth(basic_of(kConfId, kConfSecret)).ok());
  ASSERT_TRUE(from_memory(basic_of(kConfId, kConfSecret)).has_value());
  {
    sqlite::SqliteStore other(server_.store.path(), 1);
    ASSERT_TRUE(other.set_client_secret_hash(kConfId, client_secret_hash("new-secret")).ok());
  }
  EXPECT_FALSE(from_memory(basic_of(kConfId, kConfSecret)).has_value());
  EXPECT_FALSE(from_memory(basic_of(kConfId, "new-secret")).has_value());
  EXPECT_EQ(std::get<0>(refusal(auth(basic_of(kConfId, kConfSecret)))), "invalid_client");
  ASSERT_TRUE(auth(basic_of(kConfId, "new-secret")).ok());
  auto now_known = from_memory(basic_of(kConfId, "new-secret"));
  ASSERT_TRUE(now_known.has_value());
  EXPECT_TRUE(now_known->ok());
}

}  // namespace
}  // namespace stagepass::oauth::testing

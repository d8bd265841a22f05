// Client::create: which issuers and endpoints the SDK agrees to send secrets to. TLS unless
// the server is on this machine; discovered endpoints only on the issuer's own origin;
// metadata only for the issuer asked for (RFC 8414 §3.3). Metadata comes from a real HTTP
// server on loopback.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "stagepass/client.hpp"
#include "test_http_server.hpp"

namespace stagepass::sdk {
namespace {

using testing::TestHttpServer;

Result<std::unique_ptr<Client>> create(std::string issuer, std::optional<Endpoints> endpoints) {
  ClientConfig cfg;
  cfg.issuer = std::move(issuer);
  cfg.client_id = "app";
  cfg.endpoints = std::move(endpoints);
  return Client::create(cfg, std::make_shared<MemoryTokenStore>());
}

Endpoints endpoints_under(const std::string& base) {
  return {base + "/authorize", base + "/token", base + "/revoke"};
}

TEST(ClientCreate, RefusesAPlainHttpIssuerOffLoopback) {
  for (const std::string& issuer :
       std::vector<std::string>{"http://auth.example", "http://10.0.0.1:8080",
                                "http://127.0.0.1.nip.io", "http://localhost.evil.example"}) {
    auto c = create(issuer, endpoints_under(issuer));
    ASSERT_FALSE(c.ok()) << issuer;
    EXPECT_EQ(c.error().kind, ErrorKind::usage);
    EXPECT_NE(c.error().message.find("https"), std::string::npos) << c.error().message;
  }
}

TEST(ClientCreate, AcceptsHttpsAndLoopbackHttpIssuers) {
  for (const std::string& issuer : std::vector<std::string>{
           "https://auth.example", "https://auth.example:8443/tenant", "http://127.0.0.1:8080",
           "http://[::1]:8080", "http://localhost:8080", "http://LOCALHOST:8080",
           "http://127.0.0.2"}) {
    auto c = create(issuer, endpoints_under(issuer));
    EXPECT_TRUE(c.ok()) << issuer << ": " << c.error().describe();
  }
}

TEST(ClientCreate, RefusesAnIssuerWithUserinfoQueryOrFragment) {
  // RFC 8414 §2: an https URL with no query or fragment components.
  for (const std::string& issuer :
       std::vector<std::string>{"https://user:pw@auth.example", "https://auth.example?tenant=1",
                                "https://auth.example#x", "auth.example", "ftp://auth.example",
                                "https://auth.example/a\r\nb"}) {
    auto c = create(issuer, endpoints_under("https://auth.example"));
    ASSERT_FALSE(c.ok()) << issuer;
    EXPECT_EQ(c.error().kind, ErrorKind::usage) << issuer;
  }
}

TEST(ClientCreate, RefusesPlainHttpEndpointsOffLoopback) {
  const std::string issuer = "https://auth.example";
  for (int which = 0; which < 3; ++which) {
    Endpoints e = endpoints_under(issuer);
    (which == 0   ? e.authorization_endpoint
     : which == 1 ? e.token_endpoint
                  : e.revocation_endpoint) = "http://auth.example/x";
    auto c = create(issuer, e);
    ASSERT_FALSE(c.ok()) << which;
    EXPECT_EQ(c.error().kind, ErrorKind::usage);
  }
}

// A metadata document for `issuer`, with `field` replaced by `value` when given.
std::string metadata(const std::string& issuer, const std::string& field = {},
                     const std::string& value = {}) {
  boost::json::object m{{"issuer", issuer},
                        {"authorization_endpoint", issuer + "/authorize"},
                        {"token_endpoint", issuer + "/token"},
                        {"revocation_endpoint", issuer + "/revoke"},
                        {"jwks_uri", issuer + "/jwks"}};
  if (!field.empty()) m[field] = value;
  return boost::json::serialize(m);
}

TEST(ClientDiscovery, AcceptsMetadataOnTheIssuersOrigin) {
  testing::Shared<std::string> doc;
  TestHttpServer as([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{200, doc.get()};
  });
  doc.set(metadata(as.url()));
  auto c = create(as.url(), std::nullopt);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ((*c)->endpoints().token_endpoint, as.url() + "/token");
  ASSERT_EQ(as.requests().size(), 1u);
  EXPECT_EQ(as.requests()[0].target, "/.well-known/oauth-authorization-server");
}

TEST(ClientDiscovery, RefusesMetadataWithAnEndpointOnAnotherOrigin) {
  TestHttpServer evil([](const TestHttpServer::Request&) { return TestHttpServer::Response{}; });
  testing::Shared<std::string> doc;
  TestHttpServer as([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{200, doc.get()};
  });
  const std::string other_port = "http://127.0.0.1:" + std::to_string(evil.port());
  for (const char* field : {"authorization_endpoint", "token_endpoint", "revocation_endpoint"}) {
    for (const std::string& value :
         std::vector<std::string>{other_port + "/x", std::string("https://evil.example/x"),
                                  "http://localhost:" + std::to_string(as.port()) + "/x",
                                  std::string("/token"), std::string("-oProxyCommand=x")}) {
      doc.set(metadata(as.url(), field, value));
      auto c = create(as.url(), std::nullopt);
      ASSERT_FALSE(c.ok()) << field << " = " << value;
      EXPECT_EQ(c.error().kind, ErrorKind::protocol) << field;
      EXPECT_NE(c.error().message.find(field), std::string::npos) << c.error().message;
    }
  }
  EXPECT_TRUE(evil.requests().empty());
}

TEST(ClientDiscovery, RefusesAnEndpointThatABrowserReadsAsAnotherHost) {
  // libcurl reads "http://evil.example\\@127.0.0.1:PORT/authorize" as user "evil.example\"
  // at 127.0.0.1 — the issuer's origin — but a browser (WHATWG URL) reads the backslash as
  // a slash and goes to evil.example, with the state and PKCE challenge. Only the user name
  // gives it away, so a user name alone must refuse the endpoint.
  testing::Shared<std::string> doc;
  TestHttpServer as([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{200, doc.get()};
  });
  const std::string authority = "127.0.0.1:" + std::to_string(as.port());
  for (const std::string& value : {"http://evil.example\\@" + authority + "/authorize",
                                   "http://user:hunter2@" + authority + "/authorize"}) {
    doc.set(metadata(as.url(), "authorization_endpoint", value));
    auto c = create(as.url(), std::nullopt);
    ASSERT_FALSE(c.ok()) << value;
    EXPECT_EQ(c.error().kind, ErrorKind::protocol) << c.error().message;
    EXPECT_NE(c.error().message.find("authorization_endpoint"), std::string::npos);
    EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
  }
}

TEST(ClientDiscovery, RefusesAnEndpointWithAFragment) {
  // The SDK appends the authorization request's query to authorization_endpoint; after a
  // "#" it would be a fragment the server never sees (RFC 6749 §3.1: no fragment).
  testing::Shared<std::string> doc;
  TestHttpServer as([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{200, doc.get()};
  });
  for (const char* field : {"authorization_endpoint", "token_endpoint", "revocation_endpoint"}) {
    doc.set(metadata(as.url(), field, as.url() + "/x#frag"));
    auto c = create(as.url(), std::nullopt);
    ASSERT_FALSE(c.ok()) << field;
    EXPECT_EQ(c.error().kind, ErrorKind::protocol) << field;
    EXPECT_NE(c.error().message.find(field), std::string::npos) << c.error().message;
  }
}

TEST(ClientCreate, RefusalsDoNotRepeatAPasswordFromTheUrl) {
  for (const std::string& issuer :
       {std::string("https://user:hunter2@auth.example"), std::string("http://u:hunter2@10.0.0.1"),
        std::string("https://u:hunter2@auth.example/a b")}) {
    auto c = create(issuer, endpoints_under("https://auth.example"));
    ASSERT_FALSE(c.ok()) << issuer;
    EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
  }
  Endpoints e = endpoints_under("https://auth.example");
  e.token_endpoint = "https://app:hunter2@auth.example/token";
  auto c = create("https://auth.example", e);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
}

TEST(ClientDiscovery, RefusesMetadataForAnotherIssuer) {
  testing::Shared<std::string> doc;
  TestHttpServer as([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{200, doc.get()};
  });
  // RFC 8414 §3.3: "If these values are not identical, the data ... MUST NOT be used."
  for (const std::string& issuer :
       std::vector<std::string>{"https://evil.example", as.url() + "/", as.url() + "/other",
                                "http://localhost:" + std::to_string(as.port())}) {
    doc.set(metadata(as.url(), "issuer", issuer));
    auto c = create(as.url(), std::nullopt);
    ASSERT_FALSE(c.ok()) << issuer;
    EXPECT_EQ(c.error().kind, ErrorKind::protocol);
  }
}

}  // namespace
}  // namespace stagepass::sdk

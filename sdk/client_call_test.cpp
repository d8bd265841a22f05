// Client::call against real HTTP servers on loopback: the bearer token goes only to the API's
// origin (RFC 6750 §5.3), never through a redirect, and what a server says comes back as one
// printable line with a bounded Retry-After.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "stagepass/client.hpp"
#include "test_http_server.hpp"

namespace stagepass::sdk {
namespace {

using testing::TestHttpServer;
using namespace std::chrono_literals;

constexpr char kToken[] = "at-secret-0123456789";

// A client of `api` (issuer and API on the same loopback server) already holding a valid
// access token, so call() goes straight to the API.
std::unique_ptr<Client> client_of(const TestHttpServer& api, ClientConfig cfg = {}) {
  cfg.issuer = api.url();
  cfg.client_id = "app";
  cfg.endpoints = Endpoints{api.url() + "/authorize", api.url() + "/token", ""};
  cfg.max_retries = 0;
  auto store = std::make_shared<MemoryTokenStore>();
  TokenSet t;
  t.access_token = kToken;
  t.refresh_token = "rt-secret";
  t.issued_at = std::chrono::system_clock::now();
  t.expires_at = t.issued_at + 1h;
  EXPECT_TRUE(store->save(cfg.issuer + " app", t));
  auto client = Client::create(cfg, store);
  EXPECT_TRUE(client.ok()) << client.error().describe();
  return client.ok() ? std::move(*client) : nullptr;
}

TestHttpServer::Response ok_json(const TestHttpServer::Request&) { return {200, R"({"ok":true})"}; }

TEST(ClientCall, RefusesAnAbsoluteUrlOnAnotherOriginAndSendsNothing) {
  TestHttpServer api(ok_json), evil(ok_json);
  auto client = client_of(api);
  ASSERT_TRUE(client);
  for (const std::string& url :
       std::vector<std::string>{evil.url() + "/steal", "https://evil.example/v1/me",
                                "http://127.0.0.1:" + std::to_string(evil.port()) + "/v1/me",
                                "HTTP://127.0.0.1:" + std::to_string(evil.port()) + "/v1/me"}) {
    auto r = client->call("GET", url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().kind, ErrorKind::usage) << url;
    EXPECT_NE(r.error().message.find("origin"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(kToken), std::string::npos);
  }
  EXPECT_TRUE(evil.requests().empty()) << "the token went to another origin";
  EXPECT_TRUE(api.requests().empty());
}

TEST(ClientCall, ARefusalDoesNotRepeatAPasswordFromTheUrl) {
  TestHttpServer api(ok_json);
  auto client = client_of(api);
  ASSERT_TRUE(client);
  for (const std::string& url :
       {std::string("https://u:hunter2@evil.example/x"), "http://u:hunter2@" + api.url().substr(7),
        std::string("ftp://u:hunter2@evil.example/x")}) {
    auto r = client->call("GET", url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(api.requests().empty());
}

TEST(ClientCall, RefusesPathsThatLeaveTheApiBaseAndSendsNothing) {
  TestHttpServer api(ok_json), evil(ok_json);
  auto client = client_of(api);
  ASSERT_TRUE(client);
  const std::string evil_host = "127.0.0.1:" + std::to_string(evil.port());
  for (const std::string& path : std::vector<std::string>{
           "//" + evil_host + "/x", "/me\r\nX-Injected: 1", "/me\nHost: evil",
           "\\\\" + evil_host + "/x", "/\\" + evil_host + "/x", "/@" + evil_host + "/x",
           "@" + evil_host + "/x", "/v1/../admin", "/me/%2e%2e/%2E%2E/admin", "me/./x", "/me\t",
           "/me x", std::string("/me\0x", 5), "http:" + evil_host + "/x",
           "http:/" + evil_host + "/x", "javascript:alert(1)"}) {
    auto r = client->call("GET", path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error().kind, ErrorKind::usage) << path;
    for (char c : r.error().message) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << path;
  }
  EXPECT_TRUE(evil.requests().empty());
  EXPECT_TRUE(api.requests().empty()) << api.requests().front().target;
}

TEST(ClientCall, SameOriginPathsAndAbsoluteUrlsStillCarryTheToken) {
  TestHttpServer api(ok_json);
  auto client = client_of(api);
  ASSERT_TRUE(client);
  // A Spotify-style `next` link is an absolute URL on the API's own origin.
  for (const std::string& path :
       std::vector<std::string>{std::string("/v1/me"), std::string("me/playlists?limit=5&q=a@b"),
                                api.url() + "/v1/me/playlists?offset=20&limit=20"}) {
    auto r = client->call("GET", path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().describe();
  }
  auto seen = api.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/v1/me");
  EXPECT_EQ(seen[1].target, "/v1/me/playlists?limit=5&q=a@b");
  EXPECT_EQ(seen[2].target, "/v1/me/playlists?offset=20&limit=20");
  for (const auto& s : seen) EXPECT_EQ(s.authorization, std::string("Bearer ") + kToken);
}

TEST(ClientCall, FollowsNoRedirectSoTheTokenNeverReachesAnotherOrigin) {
  TestHttpServer evil(ok_json);
  TestHttpServer api([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{302, "", {{"Location", evil.url() + "/collect"}}};
  });
  auto client = client_of(api);
  ASSERT_TRUE(client);
  auto r = client->call("GET", "/v1/me");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(api.requests().size(), 1u);
  EXPECT_TRUE(evil.requests().empty());
}

TEST(ClientCall, TheTokenNeverGoesToTheIssuerWhenTheApiIsElsewhere) {
  // Issuer and API on two origins (Spotify: accounts.spotify.com, api.spotify.com/v1): the
  // bearer token goes to the API only, /v1/... paths included.
  TestHttpServer issuer(ok_json), api(ok_json);
  ClientConfig cfg;
  cfg.api_base = api.url() + "/v1";
  auto client = client_of(issuer, cfg);
  ASSERT_TRUE(client);
  for (const std::string& path :
       std::vector<std::string>{"/v1/me", "me", "/me/playlists", api.url() + "/v1/me?x=1"}) {
    auto r = client->call("GET", path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().describe();
  }
  for (const std::string& url : std::vector<std::string>{issuer.url() + "/v1/me", issuer.url()}) {
    auto r = client->call("GET", url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().kind, ErrorKind::usage) << url;
  }
  EXPECT_TRUE(issuer.requests().empty()) << issuer.requests().front().target;
  auto seen = api.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].target, "/v1/me");
  EXPECT_EQ(seen[1].target, "/v1/me");
  EXPECT_EQ(seen[2].target, "/v1/me/playlists");
  EXPECT_EQ(seen[3].target, "/v1/me?x=1");
  for (const auto& s : seen) EXPECT_EQ(s.authorization, std::string("Bearer ") + kToken);
}

TEST(ClientCall, AnApiBaseOnTheIssuersOriginStillTakesV1PathsFromTheIssuer) {
  TestHttpServer server(ok_json);
  ClientConfig cfg;
  cfg.api_base = server.url() + "/api";
  auto client = client_of(server, cfg);
  ASSERT_TRUE(client);
  for (const std::string& path : {std::string("/v1/me"), std::string("me"), server.url() + "/x"}) {
    auto r = client->call("GET", path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().describe();
  }
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/v1/me");
  EXPECT_EQ(seen[1].target, "/api/me");
  EXPECT_EQ(seen[2].target, "/x");
}

TEST(ClientCall, RefusesAMethodThatIsNotAnHttpTokenAndSendsNothing) {
  // The method goes on the request line as it is: CR/LF in it would add headers of the
  // caller's choosing (or a second request) to a request that carries the token.
  TestHttpServer api(ok_json);
  auto client = client_of(api);
  ASSERT_TRUE(client);
  for (const std::string& method :
       {std::string("GET /x HTTP/1.1\r\nX-Evil: 1\r\nY:"), std::string(""), std::string("GE T"),
        std::string("GET\r\n"), std::string("GET\t"), std::string("G\xc3\x89T"),
        std::string("GET\0X", 5), std::string("GET("), std::string("a:b"), std::string("[GET]")}) {
    auto r = client->call(method, "/v1/me");
    ASSERT_FALSE(r.ok()) << ::testing::PrintToString(method);
    EXPECT_EQ(r.error().kind, ErrorKind::usage) << r.error().describe();
    for (unsigned char c : r.error().message) EXPECT_GE(c, 0x20) << r.error().message;
  }
  EXPECT_TRUE(api.requests().empty()) << api.requests().front().method;
  // RFC 9110 §9.1: any token is a method; an unusual one is still sent.
  for (const std::string method : {"PATCH", "M-SEARCH", "X_CUSTOM.1!"}) {
    auto r = client->call(method, "/v1/me");
    ASSERT_TRUE(r.ok()) << method << ": " << r.error().describe();
  }
  ASSERT_EQ(api.requests().size(), 3u);
  EXPECT_EQ(api.requests()[1].method, "M-SEARCH");
}

TEST(ClientCall, RefusesAPlainHttpApiBaseOffLoopback) {
  TestHttpServer api(ok_json);
  ClientConfig cfg;
  cfg.issuer = api.url();
  cfg.client_id = "app";
  cfg.endpoints = Endpoints{api.url() + "/authorize", api.url() + "/token", ""};
  cfg.api_base = "http://api.example/v1";
  auto client = Client::create(cfg, std::make_shared<MemoryTokenStore>());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind, ErrorKind::usage);
  EXPECT_NE(client.error().message.find("https"), std::string::npos) << client.error().message;
}

TEST(ClientCall, AnAbsurdRetryAfterIsCappedAtADay) {
  TestHttpServer api([](const TestHttpServer::Request&) {
    return TestHttpServer::Response{429,
                                    R"({"error":{"status":429,"message":"slow down"}})",
                                    {{"Retry-After", "99999999999999999999999999"}}};
  });
  auto client = client_of(api);
  ASSERT_TRUE(client);
  auto r = client->call("GET", "/v1/me");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::rate_limited);
  ASSERT_TRUE(r.error().retry_after);
  EXPECT_LE(*r.error().retry_after, std::chrono::seconds(24h));
  EXPECT_GT(*r.error().retry_after, std::chrono::seconds(1h));
}

TEST(ClientCall, ReadsRetryAfterGivenAsAnHttpDate) {
  // RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds.
  const std::time_t later = std::time(nullptr) + 600;
  char date[64];
  std::tm tm{};
  ::gmtime_r(&later, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  TestHttpServer api([&](const TestHttpServer::Request&) {
    return TestHttpServer::Response{
        429, R"({"error":{"status":429,"message":"later"}})", {{"Retry-After", date}}};
  });
  auto client = client_of(api);
  ASSERT_TRUE(client);
  auto r = client->call("GET", "/v1/me");
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.error().retry_after);
  EXPECT_GE(*r.error().retry_after, std::chrono::seconds(500));
  EXPECT_LE(*r.error().retry_after, std::chrono::seconds(600));
}

TEST(ClientCall, ServerTextInAnErrorIsOnePrintableLine) {
  TestHttpServer api([](const TestHttpServer::Request&) {
    return TestHttpServer::Response{
        400, R"({"error":{"status":400,"message":"bad\r\nstagepass-cli: ok\u001b[2J\u009b31m"}})"};
  });
  auto client = client_of(api);
  ASSERT_TRUE(client);
  auto r = client->call("GET", "/v1/me");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("bad"), std::string::npos) << m;
  for (unsigned char c : m) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << m;
  EXPECT_EQ(m.find("\xc2\x9b"), std::string::npos) << "a C1 control (CSI) reached the terminal";
}

TEST(ClientCall, PlainHttpToThisMachineNeverGoesThroughAProxy) {
  // http_proxy would otherwise receive the loopback request — token included — in the clear.
  TestHttpServer api(ok_json), proxy(ok_json);
  auto client = client_of(api);
  ASSERT_TRUE(client);
  for (const char* var : {"http_proxy", "HTTPS_PROXY", "ALL_PROXY"}) {
    ::setenv(var, proxy.url().c_str(), 1);
  }
  ::unsetenv("no_proxy");
  ::unsetenv("NO_PROXY");
  auto r = client->call("GET", "/v1/me");
  for (const char* var : {"http_proxy", "HTTPS_PROXY", "ALL_PROXY"}) ::unsetenv(var);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(proxy.requests().empty()) << proxy.requests().front().target;
  ASSERT_EQ(api.requests().size(), 1u);
  EXPECT_EQ(api.requests()[0].authorization, std::string("Bearer ") + kToken);
}

}  // namespace
}  // namespace stagepass::sdk

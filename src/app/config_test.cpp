#include "app/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/random.hpp"

namespace stagepass {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sp-config-" + rng_.id22());
    std::filesystem::create_directories(dir_);
    for (const char* v : {"STAGEPASS_ISSUER", "STAGEPASS_LISTEN", "STAGEPASS_DATABASE",
                          "STAGEPASS_ACCESS_TOKEN_TTL", "STAGEPASS_MASTER_KEY",
                          "STAGEPASS_MASTER_KEY_FILE", "STAGEPASS_CODE_TTL"}) {
      unsetenv(v);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text) {
    auto p = (dir_ / "stagepass.toml").string();
    std::ofstream(p) << text;
    return p;
  }

  SystemRandom rng_;
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, FileThenEnvironmentWins) {
  auto file =
      write("issuer = \"https://accounts.example/\"\naccess_token_ttl = 600\ncode_ttl = 30\n");
  setenv("STAGEPASS_ACCESS_TOKEN_TTL", "900", 1);
  auto c = Config::load(file);
  EXPECT_EQ(c.issuer, "https://accounts.example");  // trailing slash dropped
  EXPECT_EQ(c.effective_audience(), "https://accounts.example/v1");
  EXPECT_EQ(c.access_token_ttl, 900);
  EXPECT_EQ(c.code_ttl, 30);
  unsetenv("STAGEPASS_ACCESS_TOKEN_TTL");
}

TEST_F(ConfigTest, RejectsBadValuesWithOneClearLine) {
  setenv("STAGEPASS_CODE_TTL", "soon", 1);
  try {
    Config::load(std::nullopt);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("STAGEPASS_CODE_TTL"), std::string::npos);
  }
  unsetenv("STAGEPASS_CODE_TTL");
  EXPECT_THROW(Config::load(write("no_such_setting = 1\n")), std::runtime_error);
}

// Negative and huge numbers are refused with the setting's name and its bounds, never wrapped
// (an int setting given 2^32 used to become 0: "no limit" for the sign-up throttle).
TEST_F(ConfigTest, RefusesNegativeAndHugeNumbers) {
  const std::pair<const char*, const char*> bad[] = {
      {"STAGEPASS_SESSION_IDLE_TTL", "-1"},
      {"STAGEPASS_SESSION_IDLE_TTL", "9223372036854775807"},
      {"STAGEPASS_SESSION_TTL", "99999999999999999999"},
      {"STAGEPASS_SIGNUP_MAX_PER_IP", "4294967296"},
      {"STAGEPASS_SIGNUP_MAX_PER_IP", "-20"},
      {"STAGEPASS_LOGIN_MAX_FAILURES", "4294967301"},
      {"STAGEPASS_LOGIN_MAX_FAILURES", "0"},
      {"STAGEPASS_MAX_CONNECTIONS", "0"},
      {"STAGEPASS_ACCESS_TOKEN_TTL", "9223372036854775000"},
      {"STAGEPASS_THREADS", "2147483648"},
      {"STAGEPASS_MAX_BODY_BYTES", "-5"},
  };
  for (const auto& [name, value] : bad) {
    setenv(name, value, 1);
    try {
      Config::load(std::nullopt);
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("must be an integer from"), std::string::npos)
          << e.what();
    }
    unsetenv(name);
  }
  EXPECT_THROW(Config::load(write("signup_max_per_ip = 4294967296\n")), std::runtime_error);
  setenv("STAGEPASS_LOGIN_MAX_FAILURES", "1000000", 1);
  EXPECT_EQ(Config::load(std::nullopt).login_max_failures, 1000000);  // the bound itself is fine
  unsetenv("STAGEPASS_LOGIN_MAX_FAILURES");
}

TEST_F(ConfigTest, SessionAndSignUpSettings) {
  auto c = Config::load(std::nullopt);
  EXPECT_EQ(c.session_ttl, 14 * 24 * 3600);
  EXPECT_EQ(c.session_idle_ttl, 24 * 3600);
  EXPECT_EQ(c.signup_max_per_ip, 20);
  setenv("STAGEPASS_SESSION_IDLE_TTL", "1800", 1);
  c = Config::load(write("session_ttl = 86400\nsignup_max_per_ip = 0\n"));
  unsetenv("STAGEPASS_SESSION_IDLE_TTL");
  EXPECT_EQ(c.session_ttl, 86400);
  EXPECT_EQ(c.session_idle_ttl, 1800);
  EXPECT_EQ(c.signup_max_per_ip, 0);
  EXPECT_THROW(Config::load(write("session_ttl = 0\n")), std::runtime_error);
}

TEST_F(ConfigTest, MasterKeyFileIsCreatedPrivateAndReused) {
  setenv("STAGEPASS_DATABASE", (dir_ / "db" / "s.db").c_str(), 1);
  auto c = Config::load(std::nullopt);
  EXPECT_EQ(c.master_key_file, (dir_ / "db" / "master.key").string());
  auto k1 = c.resolve_master_key();
  struct stat st {};
  ASSERT_EQ(stat(c.master_key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(k1.reveal().size(), 32u);
  EXPECT_EQ(c.resolve_master_key().reveal(), k1.reveal());
  unsetenv("STAGEPASS_DATABASE");
}

TEST_F(ConfigTest, MasterKeyFromEnvironment) {
  setenv("STAGEPASS_MASTER_KEY", std::string(64, 'a').c_str(), 1);
  EXPECT_EQ(Config::load(std::nullopt).resolve_master_key().reveal(), std::string(32, '\xaa'));
  setenv("STAGEPASS_MASTER_KEY", "too-short", 1);
  EXPECT_THROW(Config::load(std::nullopt).resolve_master_key(), std::runtime_error);
  unsetenv("STAGEPASS_MASTER_KEY");
}

// TLS, listeners and proxies: read from the file and the environment; a certificate without
// its key, or TLS with an http:// issuer, is refused with the variable named.
TEST_F(ConfigTest, TlsListenersAndProxies) {
  auto file = write(
      "issuer = \"https://accounts.example\"\ntls_cert = \"/etc/sp/cert.pem\"\n"
      "tls_key = \"/etc/sp/key.pem\"\nadmin_listen = \"127.0.0.1:9090\"\n");
  setenv("STAGEPASS_TRUSTED_PROXIES", "10.0.0.0/8, ::1", 1);
  setenv("STAGEPASS_INSECURE_HTTP", "1", 1);
  setenv("STAGEPASS_HTTP_REDIRECT_LISTEN", "0.0.0.0:80", 1);
  auto c = Config::load(file);
  EXPECT_TRUE(c.tls());
  EXPECT_EQ(c.tls_cert, "/etc/sp/cert.pem");
  EXPECT_EQ(c.tls_key, "/etc/sp/key.pem");
  EXPECT_EQ(c.admin_listen, "127.0.0.1:9090");
  EXPECT_EQ(c.trusted_proxies, "10.0.0.0/8, ::1");
  EXPECT_TRUE(c.insecure_http);
  EXPECT_EQ(c.http_redirect_listen, "0.0.0.0:80");
  for (const char* v :
       {"STAGEPASS_TRUSTED_PROXIES", "STAGEPASS_INSECURE_HTTP", "STAGEPASS_HTTP_REDIRECT_LISTEN"})
    unsetenv(v);
  EXPECT_FALSE(Config::load(std::nullopt).tls());
  EXPECT_FALSE(Config::load(std::nullopt).insecure_http);

  auto message = [](const std::string& path) {
    try {
      Config::load(path);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(write("issuer = \"https://a.example\"\ntls_cert = \"c.pem\"\n"))
                .find("STAGEPASS_TLS_KEY"),
            std::string::npos);
  EXPECT_NE(message(write("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n")).find("https://"),
            std::string::npos);
  setenv("STAGEPASS_INSECURE_HTTP", "maybe", 1);
  EXPECT_THROW(Config::load(std::nullopt), std::runtime_error);
  unsetenv("STAGEPASS_INSECURE_HTTP");
}

}  // namespace
}  // namespace stagepass

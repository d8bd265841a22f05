#include "app/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "app/config_table.hpp"
#include "core/random.hpp"
#include "store/sqlite/writer_settings.hpp"

namespace stagepass {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sp-config-" + rng_.id22());
    std::filesystem::create_directories(dir_);
    for (const Setting& s : settings()) unsetenv(std::string(s.env).c_str());
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

// The benchmarks' durable bound raises its writer as far as a node does by default
// (bench/hello/hello_server.cpp reads the step from writer_settings.hpp).
TEST_F(ConfigTest, WriterPriorityDefaultIsTheOneTheDurableBoundUses) {
  EXPECT_EQ(Config::load(std::nullopt).writer_priority,
            sqlite::writer_settings::kDefaultPriorityStep);
}

// issue17:prune. Pruning settings that would switch off reuse or replay detection, or empty
// the security log, are refused at start; the defaults and sane values load.
TEST_F(ConfigTest, PruningSettingsThatWouldSwitchOffDetectionAreRefused) {
  auto c = Config::load(std::nullopt);
  EXPECT_EQ(c.refresh_reuse_window, 7 * 86400);
  EXPECT_EQ(c.prune_margin, 3600);
  EXPECT_EQ(c.audit_retention, 180 * 86400);
  c = Config::load(write("refresh_reuse_window = 3600\naudit_retention = 0\n"));
  EXPECT_EQ(c.refresh_reuse_window, 3600);
  EXPECT_EQ(c.audit_retention, 0);
  EXPECT_THROW(Config::load(write("refresh_reuse_window = 0\n")), std::runtime_error);
  EXPECT_THROW(Config::load(write("prune_margin = 5\nclock_skew = 10\n")), std::runtime_error);
  EXPECT_THROW(Config::load(write("audit_retention = 1\n")), std::runtime_error);
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
// Every node of one PostgreSQL database must unseal the same signing keys: a key each node
// would invent for itself is refused; the replica is PostgreSQL-only; music.db has no
// database directory to sit beside, so it goes under ./var.
TEST_F(ConfigTest, PostgresqlNeedsASharedMasterKeyAndTheReplicaNeedsPostgresql) {
  setenv("STAGEPASS_DATABASE", "postgresql://sp@127.0.0.1:5432/sp", 1);
  // An api-only node never opens the signing keys: it needs no key (and is given none).
  setenv("STAGEPASS_ROLES", "api", 1);
  EXPECT_NO_THROW(Config::load(std::nullopt));
  unsetenv("STAGEPASS_ROLES");
  try {
    Config::load(std::nullopt);
    ADD_FAILURE() << "a PostgreSQL node made up its own master key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("same master key"), std::string::npos) << e.what();
  }
  // A key file named but missing is not made up either (a typo would seal keys no other node
  // can open); an existing one is used.
  const auto key_file = dir_ / "shared.key";
  setenv("STAGEPASS_MASTER_KEY_FILE", key_file.c_str(), 1);
  auto with_file = Config::load(std::nullopt);
  EXPECT_THROW(with_file.resolve_master_key(), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(key_file));
  { std::ofstream(key_file) << std::string(64, 'b') << "\n"; }
  EXPECT_EQ(with_file.resolve_master_key().reveal(), std::string(32, '\xbb'));
  unsetenv("STAGEPASS_MASTER_KEY_FILE");
  setenv("STAGEPASS_MASTER_KEY", std::string(64, 'a').c_str(), 1);
  auto c = Config::load(std::nullopt);
  EXPECT_EQ(c.music_database, "./var/music.db");
  setenv("STAGEPASS_DATABASE_REPLICA", "postgresql://sp@127.0.0.1:5433/sp", 1);
  EXPECT_EQ(Config::load(std::nullopt).database_replica, "postgresql://sp@127.0.0.1:5433/sp");
  setenv("STAGEPASS_DATABASE", (dir_ / "a.db").string().c_str(), 1);
  EXPECT_THROW(Config::load(std::nullopt), std::runtime_error);  // a replica of a SQLite file
  unsetenv("STAGEPASS_DATABASE");
  unsetenv("STAGEPASS_DATABASE_REPLICA");
  unsetenv("STAGEPASS_MASTER_KEY");
}

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

// ---- The settings table (config_table.cpp) ----

// Every numeric setting refuses one past each bound, from the environment, with the variable
// and its declared range in the message, and takes the bound itself into its field.
TEST_F(ConfigTest, EveryIntegerSettingHasTheBoundsItsTableDeclares) {
  int checked = 0;
  for (const Setting& s : settings()) {
    if (s.parser.kind != SettingParser::Kind::kInteger) continue;
    ++checked;
    const std::string env(s.env);
    const std::string range = "must be an integer from " + std::to_string(s.parser.min) + " to " +
                              std::to_string(s.parser.max) + ", got '";
    for (int64_t bad : {s.parser.min - 1, s.parser.max + 1}) {
      setenv(env.c_str(), std::to_string(bad).c_str(), 1);
      try {
        Config::load(std::nullopt);
        ADD_FAILURE() << env << "=" << bad << " was accepted";
      } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), env + " " + range + std::to_string(bad) + "'");
      }
    }
    setenv(env.c_str(), std::to_string(s.parser.max).c_str(), 1);
    const Config c = Config::load(std::nullopt);
    const int64_t got = std::holds_alternative<int Config::*>(s.field)
                            ? c.*std::get<int Config::*>(s.field)
                            : c.*std::get<int64_t Config::*>(s.field);
    EXPECT_EQ(got, s.parser.max) << env;
    unsetenv(env.c_str());
  }
  EXPECT_GT(checked, 10);
}

// The file takes every setting by its key: one file naming them all (with values that pass
// the checks across settings) changes every field. A setting kept out of files is refused
// with its own message.
TEST_F(ConfigTest, TheFileTakesEveryKeyOfTheTable) {
  const std::map<std::string, std::string> valid_text = {
      {"issuer", "https://file.example"},
      {"roles", "accounts"},
      {"database", "postgresql://sp@db.example/sp"},
      {"database_replica", "postgresql://sp@standby.example/sp"}};
  std::string file;
  std::map<std::string, std::string> text_written;
  for (const Setting& s : settings()) {
    const std::string key(s.key);
    if (!s.not_in_file.empty()) {
      try {
        Config::load(write(key + " = \"x\"\n"));
        ADD_FAILURE() << key << " was read from the file";
      } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), std::string(s.not_in_file));
      }
      continue;
    }
    switch (s.parser.kind) {
      case SettingParser::Kind::kInteger:
        file += key + " = " + std::to_string(s.parser.max) + "\n";
        break;
      case SettingParser::Kind::kSwitch:
        file += key + " = " + (s.default_value == "on" ? "false" : "true") + "\n";
        break;
      case SettingParser::Kind::kScale:
        file += key + " = 0.5\n";
        break;
      case SettingParser::Kind::kDuration:
        file += key + " = \"90d\"\n";
        break;
      case SettingParser::Kind::kText: {
        auto it = valid_text.find(key);
        text_written[key] = it != valid_text.end() ? it->second : "/from/the/file/" + key;
        file += key + " = \"" + text_written[key] + "\"\n";
        break;
      }
      case SettingParser::Kind::kSecret:
        ADD_FAILURE() << key << ": a secret must be kept out of files";
    }
  }
  const Config c = Config::load(write(file));
  const Config defaults;
  for (const Setting& s : settings()) {
    if (!s.not_in_file.empty()) continue;
    const std::string key(s.key);
    std::visit(
        [&](auto field) {
          using Field = decltype(field);
          if constexpr (std::is_same_v<Field, std::string Config::*>) {
            EXPECT_EQ(c.*field, text_written[key]) << key;
          } else if constexpr (!std::is_same_v<Field, Secret Config::*>) {
            EXPECT_NE(c.*field, defaults.*field) << key << " in the file changed nothing";
          }
        },
        s.field);
  }
}

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(STAGEPASS_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// STAGEPASS_* variables that are not `serve` settings, so deliberately not in the settings
// table nor in its table in docs/operations.md, with where each is documented. The source
// check below fails for any other variable read in src/.
const std::map<std::string, std::string> kNotSettings = {
    // issue16: read by tests only, never by the server.
    {"STAGEPASS_TEST_POSTGRESQL",
     "the PostgreSQL server the store tests use, exported by scripts/pg-test-server.sh "
     "(README.md, Tests)"},
    {"STAGEPASS_TEST_POSTGRESQL_REPLICA",
     "a hot standby of it for the replica tests (pg-test-server.sh run --standby)"},
    {"STAGEPASS_REQUIRE_POSTGRESQL",
     "1: the PostgreSQL tests fail instead of skipping without a server (.ci/run)"},
};

const Setting* setting_by_env(const std::string& env) {
  for (const Setting& s : settings())
    if (s.env == env) return &s;
  return nullptr;
}

// The rows of the settings table in docs/operations.md: the first table under the heading
// "## `stagepass serve`" (columns variable, default, meaning), in order. Each row is
// {variable, default cell}.
std::vector<std::pair<std::string, std::string>> documented_settings(const std::string& doc) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::istringstream lines(doc);
  std::string line;
  bool in_section = false, in_table = false;
  auto trim = [](std::string v) {
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    return v;
  };
  while (std::getline(lines, line)) {
    if (line.starts_with("## ")) {
      if (in_section) break;
      in_section = line == "## `stagepass serve`";
      continue;
    }
    if (!in_section) continue;
    if (line.starts_with("| variable | default | meaning |")) {
      in_table = true;
      continue;
    }
    if (!in_table || line.starts_with("|---")) continue;
    if (!line.starts_with("|")) {
      if (!rows.empty()) break;
      continue;
    }
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(trim(cell));
    if (cells.size() < 3) {
      ADD_FAILURE() << "not a settings row: " << line;
      continue;
    }
    std::string variable = cells[0];
    std::erase(variable, '`');
    rows.emplace_back(variable, cells[1]);
  }
  return rows;
}

// docs/operations.md's settings table ("## `stagepass serve`") and the settings table in
// config_table.cpp list the same variables in the same order with the same defaults (a
// default cell may add a gloss: "`15724800` (182 days)").
TEST(ConfigTableDoc, OperationsSettingsTableMatchesTheTable) {
  const std::string doc = read_source_file("docs/operations.md");
  ASSERT_FALSE(doc.empty()) << "cannot read docs/operations.md under " << STAGEPASS_SOURCE_DIR;
  const auto rows = documented_settings(doc);
  ASSERT_FALSE(rows.empty()) << "no settings table under \"## `stagepass serve`\"";

  std::map<std::string, std::string> documented;
  std::vector<std::string> documented_order;
  for (const auto& [variable, default_cell] : rows) {
    EXPECT_TRUE(documented.emplace(variable, default_cell).second) << variable << " twice";
    documented_order.push_back(variable);
    EXPECT_NE(setting_by_env(variable), nullptr)
        << "docs/operations.md documents " << variable << ", which is no setting";
    EXPECT_EQ(kNotSettings.count(variable), 0u)
        << variable << " is not a serve setting: " << kNotSettings.at(variable);
  }
  std::vector<std::string> table_order;
  for (const Setting& s : settings()) {
    const std::string env(s.env);
    table_order.push_back(env);
    auto it = documented.find(env);
    if (it == documented.end()) {
      ADD_FAILURE() << env << " is missing from the settings table of docs/operations.md";
      continue;
    }
    const std::string want = documented_default(s);
    const std::string& cell = it->second;
    EXPECT_TRUE(cell == want || cell.starts_with(want + " ("))
        << env << ": docs/operations.md says the default is " << cell << ", the table " << want;
  }
  // The same variables (checked above), then the same order.
  if (std::multiset(documented_order.begin(), documented_order.end()) ==
      std::multiset(table_order.begin(), table_order.end())) {
    EXPECT_EQ(documented_order, table_order)
        << "docs/operations.md lists the settings in another order than config_table.cpp";
  }
}

// Anywhere in docs/operations.md, a STAGEPASS_* name is a setting (or a declared exception):
// prose cannot name a variable the server does not read.
TEST(ConfigTableDoc, OperationsNamesOnlyRealVariables) {
  const std::string doc = read_source_file("docs/operations.md");
  ASSERT_FALSE(doc.empty());
  const std::regex name("STAGEPASS_[A-Z0-9_]+");
  int seen = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), name); it != std::sregex_iterator();
       ++it) {
    ++seen;
    const std::string variable = it->str();
    EXPECT_TRUE(setting_by_env(variable) || kNotSettings.count(variable))
        << "docs/operations.md names " << variable << ", which the server does not read";
  }
  EXPECT_GT(seen, 0);
}

// The server reads STAGEPASS_* variables only through the settings table: no getenv() of a
// literal STAGEPASS_ name in src/ but the declared exceptions, which are no settings.
TEST(ConfigTableDoc, SourcesReadVariablesOnlyThroughTheTable) {
  const std::regex read(R"re(getenv\(\s*"(STAGEPASS_[A-Z0-9_]+)")re");
  int files = 0;
  std::set<std::string> exceptions_read;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(STAGEPASS_SOURCE_DIR) / "src")) {
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string src = text.str();
    for (auto it = std::sregex_iterator(src.begin(), src.end(), read); it != std::sregex_iterator();
         ++it) {
      const std::string variable = (*it)[1];
      EXPECT_EQ(setting_by_env(variable), nullptr)
          << entry.path() << " reads the setting " << variable
          << " itself: read it from Config, which the table fills";
      if (kNotSettings.count(variable))
        exceptions_read.insert(variable);
      else
        ADD_FAILURE() << entry.path() << " reads " << variable
                      << ", which is neither a setting nor a declared exception";
    }
  }
  EXPECT_GT(files, 50);
  for (const auto& [variable, why] : kNotSettings) {
    EXPECT_EQ(setting_by_env(variable), nullptr) << variable << " is declared as no setting";
    EXPECT_TRUE(exceptions_read.count(variable))
        << variable << " is no longer read in src/: drop its exception (" << why << ")";
  }
}

}  // namespace
}  // namespace stagepass

// Where FileTokenStore keeps its key: tokens.key or the OS keyring (keyring.hpp).
//
// KeyStorageTest: no keyring needed; each test sets DBUS_SESSION_BUS_ADDRESS and
// STAGEPASS_KEYRING itself (to nothing, a dead socket or a bus that never answers), so a
// developer's real keyring is never touched.
// Keyring*: need a real Secret Service on the session bus, in the state STAGEPASS_TEST_KEYRING
// names, and skip without it: KeyringTest "unlocked" (default collection unlocked),
// KeyringLockedTest "locked", KeyringNoneTest "none" (no default collection).
// sdk/tests/with_keyring.sh sets these up with gnome-keyring and runs them (ctest
// sdk_keyring_real).
#include "keyring.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "stagepass/token_store.hpp"
#include "test_support.hpp"

extern char** environ;

namespace stagepass::sdk {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using testing::TempDir;

// Sets (or, with nullopt, unsets) an environment variable until destroyed.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value->c_str(), 1) : ::unsetenv(name);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TokenSet make_tokens(std::string access) {
  TokenSet t;
  t.access_token = std::move(access);
  t.refresh_token = "refresh";
  t.scope = "read";
  t.expires_at =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
      1h;
  return t;
}

std::unique_ptr<FileTokenStore> open_store(const fs::path& dir,
                                           KeyStorage storage = KeyStorage::automatic) {
  auto opened = FileTokenStore::open(dir, storage);
  EXPECT_TRUE(opened.ok()) << opened.error().describe();
  return opened.ok() ? std::move(*opened) : nullptr;
}

void expect_access_token(TokenStore& store, const std::string& key, const std::string& want) {
  auto got = store.load(key);
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_TRUE(got->has_value()) << key;
  EXPECT_EQ((*got)->access_token, want);
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void expect_key_file(const fs::path& dir) {
  ASSERT_TRUE(fs::exists(dir / "tokens.key"));
  EXPECT_EQ(fs::file_size(dir / "tokens.key"), 32u);
  EXPECT_EQ(mode_of(dir / "tokens.key"), 0600u);
}

// Runs `command` through the shell; its exit status and standard output.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, out};
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Every entry of the keyring with directory=<dir>, as `secret-tool search --all` prints it.
std::string keyring_entries(const fs::path& dir) {
  return run("secret-tool search --all directory " + quoted(dir.string()) + " 2>&1").second;
}

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

// ---- KeyStorageTest: the choice of key storage, without a keyring ----

TEST(KeyStorageTest, KeyringOffUsesKeyFile) {
  TempDir dir;
  ScopedEnv off("STAGEPASS_KEYRING", "off");
  ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + (dir.path() / "no-bus").string());
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->key_in_keyring());
  expect_key_file(dir.path());
  ASSERT_TRUE(store->save("k", make_tokens("at")));
  expect_access_token(*open_store(dir.path()), "k", "at");
}

TEST(KeyStorageTest, NoSessionBusUsesKeyFile) {
  for (const std::optional<std::string>& address :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    TempDir dir;
    ScopedEnv on("STAGEPASS_KEYRING", std::nullopt);
    ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", address);
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->key_in_keyring());
    expect_key_file(dir.path());
  }
}

TEST(KeyStorageTest, DeadSessionBusFallsBackToKeyFileAtOnce) {
  TempDir dir;
  ScopedEnv on("STAGEPASS_KEYRING", std::nullopt);
  ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + (dir.path() / "no-bus").string());
  const auto start = Clock::now();
  auto store = open_store(dir.path());
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->key_in_keyring());
  expect_key_file(dir.path());
}

// A socket that accepts connections (the kernel queues them) and never says a word.
TEST(KeyStorageTest, SilentSessionBusGivesUpAtTheDeadline) {
  TempDir dir;
  const fs::path socket_path = dir.path() / "silent-bus";
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  ScopedEnv on("STAGEPASS_KEYRING", std::nullopt);
  ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + socket_path.string());

  const auto start = Clock::now();
  detail::KeyringKey got = detail::keyring_key(dir.path().string(), 300ms);
  const auto took = Clock::now() - start;
  EXPECT_EQ(got.status, detail::KeyringKey::Status::unavailable);
  EXPECT_NE(got.message.find("no answer within 300 ms"), std::string::npos) << got.message;
  EXPECT_TRUE(got.key.empty());
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  ::close(listener);
}

TEST(KeyStorageTest, KeyringDemandedWithoutOneFails) {
  TempDir dir;
  ScopedEnv on("STAGEPASS_KEYRING", std::nullopt);
  ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", std::nullopt);
  auto opened = FileTokenStore::open(dir.path(), KeyStorage::keyring);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, ErrorKind::cache);
  EXPECT_NE(opened.error().message.find("DBUS_SESSION_BUS_ADDRESS"), std::string::npos)
      << opened.error().message;
  EXPECT_FALSE(fs::exists(dir.path() / "tokens.key"));

  ScopedEnv off("STAGEPASS_KEYRING", "off");
  ScopedEnv dead_bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
  opened = FileTokenStore::open(dir.path(), KeyStorage::keyring);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("STAGEPASS_KEYRING"), std::string::npos)
      << opened.error().message;
}

TEST(KeyStorageTest, ExistingKeyFileIsUsedAndKeyringModeRefusesIt) {
  TempDir dir;
  {
    auto store = open_store(dir.path(), KeyStorage::key_file);
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->key_in_keyring());
    ASSERT_TRUE(store->save("k", make_tokens("at")));
  }
  ScopedEnv on("STAGEPASS_KEYRING", std::nullopt);
  ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->key_in_keyring());
  expect_access_token(*store, "k", "at");

  auto opened = FileTokenStore::open(dir.path(), KeyStorage::keyring);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, ErrorKind::cache);
  EXPECT_NE(opened.error().message.find("tokens.key"), std::string::npos) << opened.error().message;
}

// ---- Keyring*: a real Secret Service (sdk/tests/with_keyring.sh) ----

bool keyring_expected(const char* state) {
  const char* v = std::getenv("STAGEPASS_TEST_KEYRING");
  return v && std::string(v) == state;
}

#define REQUIRE_KEYRING(state)                                                              \
  do {                                                                                      \
    if (!keyring_expected(state)) {                                                         \
      GTEST_SKIP() << "needs STAGEPASS_TEST_KEYRING=" state " (ctest -R sdk_keyring_real)"; \
    }                                                                                       \
    ::unsetenv("STAGEPASS_KEYRING");                                                        \
  } while (0)

TEST(KeyringTest, AutomaticKeepsTheKeyInTheKeyring) {
  REQUIRE_KEYRING("unlocked");
  TempDir dir;
  const auto start = Clock::now();
  auto store = open_store(dir.path());
  RecordProperty("first_open_ms", static_cast<int>((Clock::now() - start) / 1ms));
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->key_in_keyring());
  EXPECT_FALSE(fs::exists(dir.path() / "tokens.key"));
  ASSERT_TRUE(store->save("k", make_tokens("at-1")));
  expect_access_token(*store, "k", "at-1");

  // Another store: the same key, found by the directory's absolute path. (A symbolic link
  // to the directory is refused: token_store_permissions_test.)
  auto second = open_store(dir.path());
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->key_in_keyring());
  expect_access_token(*second, "k", "at-1");
  auto demanded = open_store(dir.path(), KeyStorage::keyring);
  ASSERT_TRUE(demanded);
  EXPECT_TRUE(demanded->key_in_keyring());
  expect_access_token(*demanded, "k", "at-1");
  EXPECT_FALSE(fs::exists(dir.path() / "tokens.key"));

  const std::string entries = keyring_entries(dir.path());
  EXPECT_EQ(count(entries, "label = "), 1) << entries;
  EXPECT_NE(entries.find("label = Stagepass token cache key (" + dir.path().string() + ")"),
            std::string::npos)
      << entries;
  EXPECT_NE(entries.find("schema = dev.stagepass.TokenCacheKey"), std::string::npos) << entries;
  EXPECT_NE(entries.find("attribute.directory = " + dir.path().string()), std::string::npos)
      << entries;

  // Forgetting the keyring entry loses the cache, as deleting tokens.key would.
  ASSERT_EQ(run("secret-tool clear directory " + quoted(dir.path().string())).first, 0);
  auto after_clear = open_store(dir.path());
  ASSERT_TRUE(after_clear);
  EXPECT_TRUE(after_clear->key_in_keyring());
  auto lost = after_clear->load("k");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind, ErrorKind::cache);
}

TEST(KeyringTest, KeyFileModeAndExistingKeyFilesLeaveTheKeyringAlone) {
  REQUIRE_KEYRING("unlocked");
  TempDir file_mode, existing;
  auto store = open_store(file_mode.path(), KeyStorage::key_file);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->key_in_keyring());
  expect_key_file(file_mode.path());
  EXPECT_EQ(keyring_entries(file_mode.path()), "");

  ASSERT_TRUE(open_store(existing.path(), KeyStorage::key_file));
  auto automatic = open_store(existing.path());
  ASSERT_TRUE(automatic);
  EXPECT_FALSE(automatic->key_in_keyring());
  EXPECT_EQ(keyring_entries(existing.path()), "");
}

TEST(KeyringTest, MalformedEntryIsAnErrorNotANewKey) {
  REQUIRE_KEYRING("unlocked");
  const char* bad_values[] = {
      "not base64 at all",
      "c2hvcnQ=",                                        // base64, but of "short"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",  // 32 bytes, then a newline
  };
  for (const char* bad : bad_values) {
    TempDir dir;
    const std::string store_cmd =
        "printf %s " + quoted(bad) +
        " | secret-tool store --label=bad xdg:schema dev.stagepass.TokenCacheKey directory " +
        quoted(dir.path().string());
    ASSERT_EQ(run(store_cmd).first, 0);
    auto opened = FileTokenStore::open(dir.path());
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().kind, ErrorKind::cache);
    EXPECT_NE(opened.error().message.find("is not a base64 32-byte key"), std::string::npos)
        << opened.error().message;
    EXPECT_EQ(opened.error().message.find(bad), std::string::npos);
    EXPECT_FALSE(fs::exists(dir.path() / "tokens.key"));
    EXPECT_EQ(count(keyring_entries(dir.path()), "label = "), 1);
    run("secret-tool clear directory " + quoted(dir.path().string()));
  }
}

// Child side of the next test: one fresh process (this binary, exec'ed), one store.
TEST(ChildKeyring, OpenAndSave) {
  const char* dir = std::getenv("KEYRING_CHILD_DIR");
  const char* name = std::getenv("KEYRING_CHILD_NAME");
  if (!dir || !name) GTEST_SKIP() << "only run by KeyringTest.FirstOpensInManyProcessesAgree";
  auto store = open_store(dir);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->key_in_keyring());
  ASSERT_TRUE(store->save(name, make_tokens(name)));
}

TEST(KeyringTest, FirstOpensInManyProcessesAgree) {
  REQUIRE_KEYRING("unlocked");
  TempDir dir;
  std::vector<pid_t> children;
  for (int n = 0; n < 6; ++n) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    env_strings.push_back("KEYRING_CHILD_DIR=" + dir.path().string());
    env_strings.push_back("KEYRING_CHILD_NAME=child-" + std::to_string(n));
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = fs::read_symlink("/proc/self/exe"), filter = "--gtest_filter=ChildKeyring.*";
    char* argv[] = {exe.data(), filter.data(), nullptr};
    pid_t pid;
    ASSERT_EQ(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()), 0);
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  for (int n = 0; n < 6; ++n) {
    expect_access_token(*store, "child-" + std::to_string(n), "child-" + std::to_string(n));
  }
  EXPECT_EQ(count(keyring_entries(dir.path()), "label = "), 1);
  EXPECT_FALSE(fs::exists(dir.path() / "tokens.key"));
}

TEST(KeyringTest, ForkedChildFailsInsteadOfHanging) {
  REQUIRE_KEYRING("unlocked");
  TempDir dir, other;
  ASSERT_TRUE(open_store(dir.path()));  // this process now has a D-Bus connection
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(10);  // a hang kills the child, and the test sees the signal
    auto in_keyring = FileTokenStore::open(other.path());
    if (in_keyring.ok() || in_keyring.error().message.find("forked") == std::string::npos) {
      ::_exit(1);
    }
    ::_exit(FileTokenStore::open(other.path(), KeyStorage::key_file).ok() ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

// STAGEPASS_TEST_KEYRING=none: a Secret Service that D-Bus starts on demand, with no
// default collection (a machine where nobody ever logged in graphically). Creating one
// needs a prompt ("choose a password for the new keyring"), so the keyring does not count.
TEST(KeyringNoneTest, NoDefaultCollectionFallsBackWithoutPrompt) {
  REQUIRE_KEYRING("none");
  TempDir dir;
  const auto start = Clock::now();
  auto store = open_store(dir.path());
  RecordProperty("open_with_activation_ms", static_cast<int>((Clock::now() - start) / 1ms));
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->key_in_keyring());
  expect_key_file(dir.path());

  TempDir demanding;
  auto opened = FileTokenStore::open(demanding.path(), KeyStorage::keyring);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, ErrorKind::cache);
  EXPECT_NE(opened.error().message.find("no default keyring"), std::string::npos)
      << opened.error().message;
  EXPECT_FALSE(fs::exists(demanding.path() / "tokens.key"));
}

// STAGEPASS_TEST_KEYRING=locked: the default collection exists but is locked. Unlocking
// needs a prompt, so the keyring does not count; with_keyring.sh also checks that no prompt
// was ever asked for.
TEST(KeyringLockedTest, LockedDefaultCollectionFallsBackWithoutPrompt) {
  REQUIRE_KEYRING("locked");
  TempDir dir;
  const auto start = Clock::now();
  auto store = open_store(dir.path());
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->key_in_keyring());
  expect_key_file(dir.path());

  TempDir demanding;
  auto opened = FileTokenStore::open(demanding.path(), KeyStorage::keyring);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("locked"), std::string::npos) << opened.error().message;
  EXPECT_FALSE(fs::exists(demanding.path() / "tokens.key"));
}

// An entry that with_keyring.sh stored before locking: the entry is found, locked.
TEST(KeyringLockedTest, LockedEntryFallsBackWithoutPrompt) {
  REQUIRE_KEYRING("locked");
  const char* dir = std::getenv("STAGEPASS_TEST_LOCKED_DIR");
  ASSERT_TRUE(dir && *dir);
  detail::KeyringKey got = detail::keyring_key(fs::canonical(dir).string());
  EXPECT_EQ(got.status, detail::KeyringKey::Status::unavailable);
  EXPECT_NE(got.message.find("is in a locked collection"), std::string::npos) << got.message;
}

}  // namespace
}  // namespace stagepass::sdk

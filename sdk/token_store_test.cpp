// Tests of MemoryTokenStore and FileTokenStore: round trips, file modes and encryption,
// crashes mid-write, and concurrent writers (threads and processes). All with the key in
// tokens.key (KeyStorage::key_file), so a developer's real keyring is never touched; the
// keyring and the choice between the two are tested in keyring_test.cpp.
#include "stagepass/token_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace stagepass::sdk {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::TempDir;

TokenSet make_tokens(std::string access, std::string refresh, std::string scope) {
  TokenSet t;
  t.access_token = std::move(access);
  t.refresh_token = std::move(refresh);
  t.scope = std::move(scope);
  // Whole milliseconds: the cache keeps epoch milliseconds.
  t.expires_at =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
      1h;
  return t;
}

bool same(const TokenSet& a, const TokenSet& b) {
  return a.access_token == b.access_token && a.refresh_token == b.refresh_token &&
         a.token_type == b.token_type && a.scope == b.scope && a.expires_at == b.expires_at;
}

void expect_loads(TokenStore& store, const std::string& key, const TokenSet& want) {
  auto got = store.load(key);
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_TRUE(got->has_value()) << key;
  EXPECT_EQ((*got)->access_token, want.access_token);
  EXPECT_EQ((*got)->refresh_token, want.refresh_token);
  EXPECT_EQ((*got)->token_type, want.token_type);
  EXPECT_EQ((*got)->scope, want.scope);
  EXPECT_EQ((*got)->expires_at, want.expires_at);
}

std::unique_ptr<FileTokenStore> open_store(const fs::path& dir) {
  auto opened = FileTokenStore::open(dir, KeyStorage::key_file);
  EXPECT_TRUE(opened.ok()) << opened.error().describe();
  return opened.ok() ? std::move(*opened) : nullptr;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

int count_temp_files(const fs::path& dir) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("tokens.cache.")) ++n;
  }
  return n;
}

// One guarded read-modify-write of the decimal number in "counter"'s access token.
bool increment_counter(TokenStore& store) {
  auto guard = store.exclusive();
  if (!guard) return false;
  auto current = store.load("counter");
  if (!current) return false;
  long n = 0;
  if (current->has_value()) {
    const std::string& s = (*current)->access_token;
    if (std::from_chars(s.data(), s.data() + s.size(), n).ec != std::errc()) return false;
  }
  TokenSet next;
  next.access_token = std::to_string(n + 1);
  return store.save("counter", next).ok();
}

long counter_value(TokenStore& store) {
  auto current = store.load("counter");
  if (!current || !current->has_value()) return -1;
  return std::stol((*current)->access_token);
}

// ---- FileTokenStore ----

TEST(FileTokenStoreTest, RoundTripEraseAndPersistence) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  const TokenSet one = make_tokens("access-one", "refresh-one", "read write");
  TokenSet two = make_tokens("access-two", "", "read");
  two.token_type = "DPoP";
  two.expires_at += 123ms;

  ASSERT_TRUE(store->save("issuer-a|client|code", one));
  ASSERT_TRUE(store->save("issuer-b|client|cc", two));
  expect_loads(*store, "issuer-a|client|code", one);
  expect_loads(*store, "issuer-b|client|cc", two);

  auto missing = store->load("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store->erase("issuer-a|client|code"));
  ASSERT_TRUE(store->erase("issuer-a|client|code"));  // absent: still succeeds
  auto erased = store->load("issuer-a|client|code");
  ASSERT_TRUE(erased.ok());
  EXPECT_FALSE(erased->has_value());

  auto reopened = open_store(dir.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->path(), dir.path() / "tokens.cache");
  expect_loads(*reopened, "issuer-b|client|cc", two);
  auto still_erased = reopened->load("issuer-a|client|code");
  ASSERT_TRUE(still_erased.ok());
  EXPECT_FALSE(still_erased->has_value());
}

TEST(FileTokenStoreTest, FilesArePrivateAndEncrypted) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "config" / "stagepass";  // does not exist yet
  const mode_t old_umask = ::umask(0);                       // the store must not rely on the umask
  auto store = open_store(dir);
  ::umask(old_umask);
  ASSERT_TRUE(store);
  const TokenSet t = make_tokens("AT-plain-secret-access", "RT-plain-secret-refresh", "read");
  ASSERT_TRUE(store->save("k", t));

  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir / "tokens.key"), 0600u);
  EXPECT_EQ(mode_of(dir / "tokens.cache"), 0600u);
  EXPECT_EQ(fs::file_size(dir / "tokens.key"), 32u);

  const std::string bytes = read_file(dir / "tokens.cache");
  EXPECT_EQ(bytes.substr(0, 5), std::string("SPTC\x01"));
  EXPECT_EQ(bytes.find(t.access_token), std::string::npos);
  EXPECT_EQ(bytes.find(t.refresh_token), std::string::npos);
  EXPECT_EQ(bytes.find("access_token"), std::string::npos);
}

TEST(FileTokenStoreTest, RefusesKeyFileOthersCanRead) {
  TempDir dir;
  ASSERT_TRUE(open_store(dir.path()));
  ASSERT_EQ(::chmod((dir.path() / "tokens.key").c_str(), 0644), 0);
  auto opened = FileTokenStore::open(dir.path(), KeyStorage::key_file);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, ErrorKind::cache);
  EXPECT_NE(opened.error().message.find("tokens.key"), std::string::npos);
}

TEST(FileTokenStoreTest, CacheUnderAnotherKeyIsAnErrorThenOverwritten) {
  TempDir first, second;
  const TokenSet t = make_tokens("access-secret", "refresh-secret", "read");
  auto writer = open_store(first.path());
  auto reader = open_store(second.path());  // its own, different key
  ASSERT_TRUE(writer && reader);
  ASSERT_TRUE(writer->save("k", t));
  fs::copy_file(first.path() / "tokens.cache", second.path() / "tokens.cache");

  auto loaded = reader->load("k");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::cache);
  EXPECT_EQ(loaded.error().message,
            "token cache cannot be decrypted (another key or damaged); log in again");

  const TokenSet fresh = make_tokens("access-new", "refresh-new", "read");
  ASSERT_TRUE(reader->save("other", fresh));  // starts over from an empty map
  expect_loads(*reader, "other", fresh);
  auto old = reader->load("k");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());
}

TEST(FileTokenStoreTest, DamagedCacheIsAnErrorWithoutTokens) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  const TokenSet t = make_tokens("access-secret", "refresh-secret", "read");
  ASSERT_TRUE(store->save("k", t));
  std::string bytes = read_file(store->path());
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(store->path(), std::ios::binary | std::ios::trunc) << bytes;

  auto loaded = store->load("k");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::cache);
  EXPECT_EQ(loaded.error().message.find("secret"), std::string::npos);
  ASSERT_TRUE(store->erase("k"));  // also starts over
  auto after = store->load("k");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
}

// A writer killed at a random moment leaves the previous or the next content, intact.
TEST(FileTokenStoreTest, KilledWriterLeavesOldOrNewContent) {
  TempDir dir;
  const TokenSet a = make_tokens(std::string(64 * 1024, 'a'), std::string(64 * 1024, 'A'), "a");
  const TokenSet b = make_tokens(std::string(64 * 1024, 'b'), std::string(64 * 1024, 'B'), "b");
  {
    auto seed = open_store(dir.path());
    ASSERT_TRUE(seed);
    ASSERT_TRUE(seed->save("k", a));
  }
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_us(0, 20000);
  int leftovers = 0;

  for (int round = 0; round < 30; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto opened = FileTokenStore::open(dir.path(), KeyStorage::key_file);
      if (!opened) ::_exit(1);
      for (bool flip = false;; flip = !flip) {
        if (!(*opened)->save("k", flip ? a : b)) ::_exit(1);
      }
    }
    ::usleep(delay_us(rng));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed before it was killed";

    leftovers += count_temp_files(dir.path());
    auto store = open_store(dir.path());  // also removes a dead writer's temp file
    ASSERT_TRUE(store);
    auto loaded = store->load("k");
    ASSERT_TRUE(loaded.ok()) << "round " << round << ": " << loaded.error().describe();
    ASSERT_TRUE(loaded->has_value());
    EXPECT_TRUE(same(**loaded, a) || same(**loaded, b)) << "round " << round;
    EXPECT_EQ(count_temp_files(dir.path()), 0);
  }
  RecordProperty("temp_files_left_by_killed_writers", leftovers);
}

// Child body for the two-process test: no gtest assertions here, only an exit status.
bool run_counter_child(const fs::path& dir, int n) {
  auto opened = FileTokenStore::open(dir, KeyStorage::key_file);
  if (!opened) return false;
  FileTokenStore& store = **opened;
  const TokenSet mine = make_tokens("child-access-" + std::to_string(n), "", "");
  for (int i = 0; i < 100; ++i) {
    if (!increment_counter(store)) return false;
    if (!store.save("child-" + std::to_string(n), mine)) return false;
  }
  return true;
}

TEST(FileTokenStoreTest, TwoProcessesDoNotLoseUpdates) {
  TempDir dir;  // no key yet: the children also race to create it
  pid_t children[2];
  for (int n = 0; n < 2; ++n) {
    children[n] = ::fork();
    ASSERT_GE(children[n], 0);
    if (children[n] == 0) ::_exit(run_counter_child(dir.path(), n) ? 0 : 1);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(counter_value(*store), 200);
  for (const char* key : {"child-0", "child-1"}) {
    auto loaded = store->load(key);
    ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(loaded->has_value()) << key;
  }
}

TEST(FileTokenStoreTest, ThreadsShareOneStoreWithoutLostUpdates) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!increment_counter(*store)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter_value(*store), 400);
}

TEST(FileTokenStoreTest, DefaultDirFollowsEnvironment) {
  auto saved = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto config = saved("STAGEPASS_CONFIG_DIR"), xdg = saved("XDG_CONFIG_HOME"),
             home = saved("HOME");
  ::setenv("STAGEPASS_CONFIG_DIR", "/x/sp", 1);
  ::setenv("XDG_CONFIG_HOME", "/x/xdg", 1);
  ::setenv("HOME", "/x/home", 1);
  EXPECT_EQ(FileTokenStore::default_dir(), fs::path("/x/sp"));
  ::unsetenv("STAGEPASS_CONFIG_DIR");
  EXPECT_EQ(FileTokenStore::default_dir(), fs::path("/x/xdg/stagepass"));
  ::unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(FileTokenStore::default_dir(), fs::path("/x/home/.config/stagepass"));

  auto restore = [](const char* name, const std::optional<std::string>& v) {
    v ? ::setenv(name, v->c_str(), 1) : ::unsetenv(name);
  };
  restore("STAGEPASS_CONFIG_DIR", config);
  restore("XDG_CONFIG_HOME", xdg);
  restore("HOME", home);
}

// ---- MemoryTokenStore ----

TEST(MemoryTokenStoreTest, RoundTripAndReentrantGuard) {
  MemoryTokenStore store;
  const TokenSet t = make_tokens("access", "refresh", "read");
  ASSERT_TRUE(store.save("k", t));
  expect_loads(store, "k", t);

  {
    auto guard = store.exclusive();
    ASSERT_TRUE(guard.ok());
    auto nested = store.exclusive();  // same thread: does not block
    ASSERT_TRUE(nested.ok());
    ASSERT_TRUE(store.save("k2", t));
    expect_loads(store, "k2", t);
    ASSERT_TRUE(store.erase("k"));
  }
  auto erased = store.load("k");
  ASSERT_TRUE(erased.ok());
  EXPECT_FALSE(erased->has_value());
  EXPECT_TRUE(store.erase("k"));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) {
        if (!increment_counter(store)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter_value(store), 400);
}

}  // namespace
}  // namespace stagepass::sdk

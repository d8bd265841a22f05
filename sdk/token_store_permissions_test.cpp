// FileTokenStore and the files it trusts: the directory ends up 0700 and owned by the user
// even when it existed before; a key file or directory owned by someone else, a directory,
// key or lock file that is a symbolic link, or a FIFO where a file should be, is refused;
// a directory swapped for a link after open() is not followed. The tests that give a file to
// another user need root (chown); elsewhere they are skipped and say so.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "stagepass/token_store.hpp"
#include "test_support.hpp"

namespace stagepass::sdk {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr uid_t kNobody = 65534;

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

Result<std::unique_ptr<FileTokenStore>> open_store(const fs::path& dir) {
  return FileTokenStore::open(dir, KeyStorage::key_file);
}

void write_key(const fs::path& path) {
  std::ofstream(path, std::ios::binary) << std::string(32, 'k');
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
}

TEST(FileTokenStorePermissions, AnExistingOpenDirectoryIsMadePrivate) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "stagepass";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  auto store = open_store(dir);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  EXPECT_EQ(mode_of(dir), 0700u);

  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);  // world-writable: anyone could swap files
  store = open_store(dir);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  EXPECT_EQ(mode_of(dir), 0700u);
}

TEST(FileTokenStorePermissions, RefusesADirectoryOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  TempDir tmp;
  const fs::path dir = tmp.path() / "stagepass";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chown(dir.c_str(), kNobody, kNobody), 0);
  auto store = open_store(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::cache);
  EXPECT_NE(store.error().message.find("owned by"), std::string::npos) << store.error().message;
  EXPECT_FALSE(fs::exists(dir / "tokens.key")) << "no key may be written into their directory";
  EXPECT_EQ(mode_of(dir), 0755u) << "their directory is left as it was";
}

TEST(FileTokenStorePermissions, RefusesAKeyFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the key file to another user";
  TempDir dir;
  write_key(dir.path() / "tokens.key");
  ASSERT_EQ(::chown((dir.path() / "tokens.key").c_str(), kNobody, kNobody), 0);
  auto store = open_store(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::cache);
  EXPECT_NE(store.error().message.find("tokens.key"), std::string::npos);
  EXPECT_NE(store.error().message.find("owned by"), std::string::npos) << store.error().message;
}

TEST(FileTokenStorePermissions, RefusesASymlinkedKeyFile) {
  TempDir dir, elsewhere;
  write_key(elsewhere.path() / "planted.key");
  fs::create_symlink(elsewhere.path() / "planted.key", dir.path() / "tokens.key");
  auto store = open_store(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::cache);
  EXPECT_NE(store.error().message.find("symbolic link"), std::string::npos)
      << store.error().message;
}

TEST(FileTokenStorePermissions, RefusesASymlinkedLockFileWithoutCreatingItsTarget) {
  TempDir dir, elsewhere;
  const fs::path target = elsewhere.path() / "created-by-the-victim";
  fs::create_symlink(target, dir.path() / "tokens.lock");
  auto store = open_store(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::cache);
  EXPECT_NE(store.error().message.find("symbolic link"), std::string::npos)
      << store.error().message;
  EXPECT_FALSE(fs::exists(target));
}

bool is_empty_dir(const fs::path& dir) { return fs::is_empty(dir); }

TEST(FileTokenStorePermissions, RefusesASymlinkedDirectoryAndLeavesItsTargetAlone) {
  // Another user plants `stagepass -> /their/dir` where the victim's cache goes (or root runs
  // the CLI with --config-dir pointing at it): nothing may be chmod'ed or created there.
  TempDir tmp, elsewhere;
  const fs::path target = elsewhere.path() / "theirs";
  ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(target.c_str(), 0755), 0);
  fs::create_symlink(target, tmp.path() / "stagepass");
  for (const fs::path& dir : {tmp.path() / "stagepass", tmp.path() / "stagepass/"}) {
    auto store = open_store(dir);
    ASSERT_FALSE(store.ok()) << dir;
    EXPECT_EQ(store.error().kind, ErrorKind::cache);
    EXPECT_NE(store.error().message.find("symbolic link"), std::string::npos)
        << store.error().message;
  }
  EXPECT_EQ(mode_of(target), 0755u);
  EXPECT_TRUE(is_empty_dir(target));
}

TEST(FileTokenStorePermissions, ADirectorySwappedForALinkAfterOpenIsNotFollowed) {
  // The check and every later open must see the same directory: open() holds it open, and
  // the key, lock and cache files are opened relative to that, not by path again.
  TempDir tmp, elsewhere;
  const fs::path dir = tmp.path() / "stagepass";
  auto store = open_store(dir);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  fs::rename(dir, tmp.path() / "moved");
  fs::create_symlink(elsewhere.path(), dir);
  TokenSet t;
  t.access_token = "at";
  ASSERT_TRUE((*store)->save("k", t).ok());
  auto loaded = (*store)->load("k");
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_TRUE(is_empty_dir(elsewhere.path())) << "a file was created through the link";
  EXPECT_TRUE(fs::exists(tmp.path() / "moved" / "tokens.cache"));
}

// Runs `f` on another thread and says whether it finished within `bound` (generous: this
// tells a hang from an answer, it measures nothing). `unblock` is run when it did not.
template <typename F>
bool finishes(F f, std::chrono::seconds bound, const std::function<void()>& unblock) {
  std::packaged_task<void()> task(std::move(f));
  auto done = task.get_future();
  std::thread worker(std::move(task));
  const bool in_time = done.wait_for(bound) == std::future_status::ready;
  if (!in_time) unblock();
  worker.join();
  return in_time;
}

// Opens the FIFO for writing, which releases a reader blocked in open(2).
void release_reader(const fs::path& fifo) {
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (fd >= 0) ::close(fd);
}

TEST(FileTokenStorePermissions, AFifoForAKeyFileIsAnErrorNotAHang) {
  TempDir dir;
  const fs::path key = dir.path() / "tokens.key";
  ASSERT_EQ(::mkfifo(key.c_str(), 0600), 0);
  Result<std::unique_ptr<FileTokenStore>> store = Error{};
  ASSERT_TRUE(finishes([&] { store = open_store(dir.path()); }, std::chrono::seconds(10),
                       [&] { release_reader(key); }))
      << "open() hung on a FIFO named tokens.key";
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::cache);
  EXPECT_NE(store.error().message.find("tokens.key"), std::string::npos) << store.error().message;
}

TEST(FileTokenStorePermissions, AFifoForTheCacheIsAnErrorNotAHang) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().describe();
  const fs::path cache = dir.path() / "tokens.cache";
  ASSERT_EQ(::mkfifo(cache.c_str(), 0600), 0);
  Result<std::optional<TokenSet>> loaded = Error{};
  ASSERT_TRUE(finishes([&] { loaded = (*store)->load("k"); }, std::chrono::seconds(10),
                       [&] { release_reader(cache); }))
      << "load() hung on a FIFO named tokens.cache";
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::cache);
  EXPECT_NE(loaded.error().message.find("tokens.cache"), std::string::npos)
      << loaded.error().message;
}

TEST(FileTokenStorePermissions, ANewDirectoryIsPrivateAndItsParentsAreMade) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "a" / "b" / "stagepass";
  auto store = open_store(dir);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_TRUE(fs::exists(dir / "tokens.key"));
}

}  // namespace
}  // namespace stagepass::sdk

// FileTokenStore and the files it trusts: the directory ends up 0700 and owned by the user
// even when it existed before; a key file or directory owned by someone else, or a key or
// lock file that is a symbolic link, is refused. The tests that give a file to another user
// need root (chown); elsewhere they are skipped and say so.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

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

}  // namespace
}  // namespace stagepass::sdk

#include "store/sqlite/online_backup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "store/sqlite/connection.hpp"

namespace stagepass::sqlite {
namespace {

namespace fs = std::filesystem;

class OnlineBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sp-backup-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "live.db").string();
    Connection c(db_);  // WAL, as every Stagepass database
    c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    c.exec("BEGIN");
    for (int i = 0; i < kRows; ++i) c.prepare("INSERT INTO t (v) VALUES (randomblob(1000))").run();
    c.exec("COMMIT");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static int64_t rows(const std::string& path) {
    Connection c(path);
    auto s = c.prepare("SELECT count(*) FROM t");
    s.step();
    return s.i64(0);
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // Files in the directory whose name contains `part`.
  int files_with(const std::string& part) const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().filename().string().find(part) != std::string::npos) ++n;
    return n;
  }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  static constexpr int kRows = 2000;  // about 500 pages of 4 KiB
  fs::path dir_;
  std::string db_;
};

// The point of the held read transaction: another connection commits between every two
// steps (as the server does under load), and the copy neither starts over nor picks up
// those commits: it is the database as it was when the backup began.
TEST_F(OnlineBackupTest, CopiesOneSnapshotWhileAnotherConnectionCommitsBetweenSteps) {
  Connection writer(db_);
  int writes = 0;
  BackupOptions opt;
  opt.pages_per_step = 16;
  opt.pause = std::chrono::milliseconds(0);
  opt.after_step = [&](int64_t, int64_t) {
    if (writes >= 300) return;  // bounded, so a copy that restarts still ends (and fails below)
    writer.prepare("INSERT INTO t (v) VALUES (randomblob(1000))").run();
    ++writes;
  };
  auto r = backup_database(db_, path("copy.db"), opt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(writes, 10);
  EXPECT_EQ(r->restarts, 0);
  EXPECT_GT(r->steps, 10);
  EXPECT_EQ(rows(path("copy.db")), kRows);
  EXPECT_EQ(rows(db_), kRows + writes);
  EXPECT_EQ(r->bytes, static_cast<int64_t>(fs::file_size(path("copy.db"))));
}

TEST_F(OnlineBackupTest, TheFileIsSelfContainedPrivateAndLeavesNothingBeside) {
  auto r = backup_database(db_, path("copy.db"));
  ASSERT_TRUE(r) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path("copy.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Rollback-journal mode in the header (bytes 18 and 19: 1), so it reads without a -wal.
  std::string head = slurp(path("copy.db")).substr(0, 20);
  EXPECT_EQ(head.substr(0, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(head[18], 1);
  EXPECT_EQ(head[19], 1);
  EXPECT_FALSE(fs::exists(path("copy.db-wal")));
  EXPECT_EQ(files_with(".backup-"), 0);
  EXPECT_EQ(rows(path("copy.db")), kRows);
}

TEST_F(OnlineBackupTest, AnExistingFileIsKeptUnlessReplaceIsAsked) {
  { std::ofstream(path("old.db")) << "an earlier backup"; }
  auto refused = backup_database(db_, path("old.db"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().message, path("old.db") + " exists");
  EXPECT_EQ(slurp(path("old.db")), "an earlier backup");
  EXPECT_EQ(files_with(".backup-"), 0);

  BackupOptions replace;
  replace.replace = true;
  auto r = backup_database(db_, path("old.db"), replace);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(rows(path("old.db")), kRows);
}

TEST_F(OnlineBackupTest, NeverWritesOverALiveDatabaseEvenWithReplace) {
  Connection keep_wal_open(db_);  // so the -wal and -shm exist
  keep_wal_open.exec("INSERT INTO t (v) VALUES (x'00')");
  fs::path other = dir_ / "music.db";
  { Connection c(other.string()); }
  BackupOptions opt;
  opt.replace = true;
  opt.protect = {other.string()};
  for (const auto& target : {db_, db_ + "-wal", db_ + "-shm", other.string()}) {
    ASSERT_TRUE(fs::exists(target)) << target;
    auto r = backup_database(db_, target, opt);
    ASSERT_FALSE(r) << target;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << target;
    EXPECT_EQ(r.error().message, target + " is a live database file, not a backup");
  }
  EXPECT_EQ(rows(db_), kRows + 1);
}

TEST_F(OnlineBackupTest, AMissingSourceIsReportedAndNotCreated) {
  auto r = backup_database(path("absent.db"), path("copy.db"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no database at " + path("absent.db"));
  EXPECT_FALSE(fs::exists(path("absent.db")));
  EXPECT_FALSE(fs::exists(path("copy.db")));
}

TEST_F(OnlineBackupTest, UnwritableTargetsAreRefusedWithTheReason) {
  { std::ofstream(path("plain-file")) << "x"; }
  const std::pair<std::string, std::string> cases[] = {
      {path("no-such-dir/copy.db"), "No such file or directory"},
      {path("plain-file/copy.db"), "Not a directory"},
  };
  for (const auto& [target, reason] : cases) {
    auto r = backup_database(db_, target);
    ASSERT_FALSE(r) << target;
    EXPECT_EQ(r.error().code, ErrorCode::kIo);
    EXPECT_EQ(r.error().message, "cannot write " + target + ": " + reason);
  }
  fs::create_directories(dir_ / "a-dir");
  BackupOptions replace;
  replace.replace = true;
  auto dir = backup_database(db_, path("a-dir"), replace);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(dir.error().message, path("a-dir") + " exists and is not a regular file");
}

TEST_F(OnlineBackupTest, ASourceThatIsNotADatabaseFailsAndLeavesNoTemporaryFile) {
  { std::ofstream(path("notes.txt")) << std::string(8192, 'n'); }
  auto r = backup_database(path("notes.txt"), path("copy.db"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("not a database"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(path("copy.db")));
  EXPECT_EQ(files_with(".backup-"), 0);
}

}  // namespace
}  // namespace stagepass::sqlite

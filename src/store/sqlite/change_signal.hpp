// ChangeSignal: a counter shared by every process that opens the same SQLite file, kept in a
// small file beside it (`<database>-changes`) and mapped into memory, so a reader learns that
// another process changed something with one memory load instead of a read transaction (a
// read transaction on a WAL database costs two fcntl lock calls on the -shm file).
//
// A process that commits a change bumps the counter after its COMMIT; a reader loads it
// before it reads the rows it caches (ReadCache's rule: the version first). It is a hint that
// only ever says "something may have changed": a process that fails to map the file, a file
// replaced under a running server or a writer that never bumps it (another program, an older
// binary) make caches fall back on their own slower check, never serve a stale row forever
// (SqliteStore::find_client re-reads the database's version at least once a second).
// Thread safety: load() and bump() may be called from any thread (atomic on the shared page).
#pragma once

#include <cstdint>
#include <string>

namespace stagepass::sqlite {

class ChangeSignal {
 public:
  // Maps `<database_path>-changes`, creating it (mode 0600) if missing. A database that is not
  // a file (":memory:", "") or a file that cannot be mapped leaves the signal unavailable.
  explicit ChangeSignal(const std::string& database_path);
  ~ChangeSignal();
  ChangeSignal(const ChangeSignal&) = delete;
  ChangeSignal& operator=(const ChangeSignal&) = delete;

  bool available() const { return word_ != nullptr; }
  // The counter; 0 when unavailable.
  uint64_t load() const;
  void bump();

 private:
  uint64_t* word_ = nullptr;  // in the shared mapping
};

}  // namespace stagepass::sqlite

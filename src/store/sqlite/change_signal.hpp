// ChangeSignal: a value shared by every process that opens the same SQLite file, kept in a
// small file beside it (`<database>-changes`), so a reader learns that another process changed
// something with one pread of 8 bytes instead of a read transaction (a read transaction on a
// WAL database costs, among the rest, two fcntl lock calls on the -shm file).
//
// A process that commits a change writes a new random value after its COMMIT; a reader reads
// the value before it reads the rows it caches (ReadCache's rule: the version first). Values
// are random, not counted: two processes writing at once cannot write the same value, so no
// change is lost to a race. It is a hint that only ever says "something may have changed":
// a file that cannot be opened safely, a file deleted or replaced under a running server, or a
// writer that never writes it (another program, an older binary) make caches fall back on
// their own slower check, never serve a stale row for long (SqliteStore::find_client re-reads
// the database's version at least once a second, and reopens a replaced file then).
// Thread safety: every method may be called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace stagepass::sqlite {

class ChangeSignal {
 public:
  // Opens `<database_path>-changes`, the database path resolved as SQLite resolves it
  // (symbolic links followed), creating the file (mode 0600, the database file's owner when
  // run as root) and its directory if missing. A database that is not a file (":memory:",
  // "", a URI) or a file that is not a regular file of ours that only we may write leaves
  // the signal unavailable.
  explicit ChangeSignal(const std::string& database_path);
  ~ChangeSignal();
  ChangeSignal(const ChangeSignal&) = delete;
  ChangeSignal& operator=(const ChangeSignal&) = delete;

  bool available() const;
  // The value; 0 when unavailable or unreadable (a reader then takes the slow path). One
  // pread and no lock: the one system call an I/O thread makes on a store's behalf
  // (issue17:cc-inline: client credentials), on a file of 8 bytes that every token request
  // reads, so its page stays in memory.
  uint64_t load() const;
  // Writes a new value (after a commit that changed something).
  void bump();
  // Reopens the file when the path now names another file (deleted and made again by another
  // process), or opens it when it could not be opened before; writes a new value to a file
  // cut short or zeroed (until then every load() is 0, so every lookup takes the slow path). Cheap
  // when nothing changed.
  void reopen_if_replaced();

 private:
  void open_file();

  std::string path_;  // empty: no signal for this database
  // Held to change fd_ (a reopen closes the one it replaces) and by bump(), so a write never
  // goes to a descriptor closed meanwhile (and perhaps reused for another file). load()
  // takes no lock: it reads, then checks fd_ still holds the number it read through (a
  // number closed and reused for another file meanwhile: 0, the slow path).
  std::mutex mu_;
  std::atomic<int> fd_{-1};
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace stagepass::sqlite

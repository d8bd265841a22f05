#include "store/sqlite/change_signal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace stagepass::sqlite {
namespace {
constexpr size_t kMapBytes = 4096;  // one page; the counter is its first 8 bytes

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free,
              "a counter shared between processes must be lock-free (address-free)");
}  // namespace

ChangeSignal::ChangeSignal(const std::string& database_path) {
  if (database_path.empty() || database_path == ":memory:" || database_path.starts_with("file:")) {
    return;
  }
  const std::string path = database_path + "-changes";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  struct stat st {};
  // Grown to one page once; growing an existing file again is harmless (zeros past its end).
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_size < static_cast<off_t>(kMapBytes) &&
       ::ftruncate(fd, static_cast<off_t>(kMapBytes)) != 0)) {
    ::close(fd);
    return;
  }
  void* p = ::mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) return;
  word_ = static_cast<uint64_t*>(p);
}

ChangeSignal::~ChangeSignal() {
  if (word_) ::munmap(word_, kMapBytes);
}

uint64_t ChangeSignal::load() const {
  if (!word_) return 0;
  return std::atomic_ref<uint64_t>(*word_).load(std::memory_order_acquire);
}

void ChangeSignal::bump() {
  if (word_) std::atomic_ref<uint64_t>(*word_).fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace stagepass::sqlite

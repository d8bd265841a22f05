#include "store/sqlite/connection_pool.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>

namespace stagepass::sqlite {

ConnectionPool::ConnectionPool(const std::string& path, int readers,
                               const std::function<void(Connection&)>& migrate, CommitHooks hooks,
                               const char* writer_name)
    : hooks_(std::move(hooks)) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  writer_ = std::make_unique<Connection>(path);
  migrate(*writer_);
  // The writer copies the log back into the database (a checkpoint, with its own fsync)
  // inside every COMMIT that leaves the log over this many pages, so every write of that group,
  // and each one queued behind it, waits for it: the checkpoint is the tail of the latency
  // of durable grants. Refresh grants (wrk -t2 -c64, three pairs in turns, issue 17): SQLite's
  // default, 1000 pages, 27.3-27.9 ms at the 99th percentile; 250 pages, 15.5-16.1 ms, at the
  // same rate (7.8-8.4k/s against 7.4-7.9k/s). 100 pages gained nothing more.
  writer_->exec(("PRAGMA wal_autocheckpoint=" + std::to_string(kCheckpointPages)).c_str());
  // The writer's page cache outlives its transactions (it is the only connection that changes
  // the file), so pages a write needs again are not read again. With SQLite's default of 2 MiB
  // a refresh grant read 7 pages (pread) on the writer thread; with 64 MiB, 1.6, and the writer
  // used about a fifth less CPU per write (issue 17). A maximum: the cache grows only as pages are
  // read.
  writer_->exec(("PRAGMA cache_size=-" + std::to_string(kWriterCacheKiB)).c_str());
  for (int i = 0; i < std::max(1, readers); ++i)
    readers_.push_back(std::make_unique<Connection>(path));
  writer_thread_ = std::thread([this, writer_name] {
    ::pthread_setname_np(::pthread_self(), writer_name);
    writer_tid_.store(::gettid());
    writer_tid_.notify_one();
    writer_loop();
  });
  writer_tid_.wait(0);
  // The writer's nice is the constructing thread's (inherited); -1 is a valid nice value, so
  // only errno tells a failure.
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(writer_tid_.load()));
  base_nice_ = errno == 0 ? nice : ::getpriority(PRIO_PROCESS, 0);
  raised_nice_ = base_nice_;
}

Status<> ConnectionPool::raise_writer_priority(int steps) {
  const int nice = std::clamp(base_nice_ - steps, -20, 19);
  std::lock_guard lk(group_mu_);
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(writer_tid_.load()), nice) != 0) {
    const int e = errno;
    return fail(Error{
        ErrorCode::kIo,
        "cannot set the writer thread's nice value to " + std::to_string(nice) + ": " +
            std::strerror(e) +
            (e == EACCES || e == EPERM ? " (raising it needs an RLIMIT_NICE that allows it, or "
                                         "CAP_SYS_NICE)"
                                       : "")});
  }
  raised_nice_ = nice;
  lowered_ = false;
  return Ok{};
}

void ConnectionPool::raise_writer_locked() {
  if (!lowered_) return;
  lowered_ = false;
  set_raised_locked();
}

void ConnectionPool::set_raised_locked() {
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(writer_tid_.load()), raised_nice_) != 0) {
    // The right to raise it went (RLIMIT_NICE lowered meanwhile): the writer stays at the
    // node's nice from now on, as on a node that could never raise it, instead of lowering
    // and failing to raise again for every group.
    raised_nice_ = base_nice_;
  }
}

bool ConnectionPool::mark_lowered_locked(bool background_only) {
  if (!background_only || lowered_ || raised_nice_ >= base_nice_) return false;
  lowered_ = true;
  return true;
}

// Lowering makes the kernel look for a task to run instead of this one (its weight fell), so
// it is done with group_mu_ released: the writer preempted there would hold up every request
// thread queuing a write. A request's write queued in between raises it (raise_writer_locked);
// if that raise came before this lowering, the writer raises itself again, a few instructions
// later unless it is switched out right after lowering.
void ConnectionPool::lower_writer() {
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(writer_tid_.load()), base_nice_);
  std::lock_guard lk(group_mu_);
  if (!lowered_) set_raised_locked();
}

ConnectionPool::~ConnectionPool() {
  {
    std::lock_guard lk(group_mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  writer_thread_.join();
}

ConnectionPool::Lease::Lease(ConnectionPool& p) : pool(p) {
  std::unique_lock lk(pool.pool_mu_);
  pool.pool_cv_.wait(lk, [&] { return !pool.readers_.empty(); });
  c = std::move(pool.readers_.back());
  pool.readers_.pop_back();
}

ConnectionPool::Lease::~Lease() {
  {
    std::lock_guard lk(pool.pool_mu_);
    pool.readers_.push_back(std::move(c));
  }
  pool.pool_cv_.notify_one();
}

// A committed group is woken as a tree: the writer wakes the first write's caller, and each
// caller, once awake, wakes the two callers below it (write i wakes 2i+1 and 2i+2). Waking a
// thread is a futex call and most of a wake-up in the kernel; done by the writer for every
// write of a group, that was 11 % of the writer thread's time (perf, refresh grants, issue 17),
// and the writer is the one thread every durable grant waits for.
struct ConnectionPool::Job {
  const std::function<void(Connection&)>* work = nullptr;
  Lane lane = Lane::kRequest;
  std::optional<Error> error;
  std::exception_ptr exception;
  std::array<Job*, 2> wakes{};  // set by the writer before it wakes the group
  std::mutex mu;                // guards done; the job's own, so callers never queue on group_mu_
  std::condition_variable cv;
  bool done = false;
};

// Under the job's lock: once its caller sees `done` it returns, and the job, on its stack, is
// gone.
void ConnectionPool::wake(Job* job) noexcept {
  std::lock_guard lk(job->mu);
  job->done = true;
  job->cv.notify_one();
}

std::optional<Error> ConnectionPool::in_group(const std::function<void(Connection&)>& work,
                                              Lane lane) {
  Job job;
  job.work = &work;
  job.lane = lane;
  {
    std::lock_guard lk(group_mu_);
    queue_.push_back(&job);
    if (lane == Lane::kRequest) raise_writer_locked();  // the group it may wait for too
  }
  work_cv_.notify_one();
  std::array<Job*, 2> wakes{};
  {
    std::unique_lock lk(job.mu);
    job.cv.wait(lk, [&] { return job.done; });
    wakes = job.wakes;
  }
  for (Job* below : wakes)
    if (below) wake(below);
  if (job.exception) std::rethrow_exception(job.exception);
  return job.error;
}

// The statements that frame every write are prepared once (Connection caches them): parsing
// SAVEPOINT and RELEASE again for every write cost the one writer thread about 3 µs a write
// (2.8-3.6 µs against 0.3-0.5 µs prepared, measured on this machine).
void ConnectionPool::writer_loop() {
  std::vector<Job*> group;
  for (;;) {
    bool lower = false;
    {
      std::unique_lock lk(group_mu_);
      work_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      size_t n = std::min(queue_.size(), kMaxGroup);
      group.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      // Lowered only when no request's write is in this group or queued behind it.
      auto background = [](const Job* j) { return j->lane == Lane::kBackground; };
      lower = mark_lowered_locked(std::all_of(group.begin(), group.end(), background) &&
                                  std::all_of(queue_.begin(), queue_.end(), background));
    }
    if (lower) lower_writer();
    using Clock = std::chrono::steady_clock;
    const auto took = Clock::now();
    Clock::duration in_commit{};
    std::optional<Error> group_error;
    try {
      writer_->prepare("BEGIN IMMEDIATE").run();
      if (hooks_.begin) hooks_.begin(*writer_);
    } catch (const SqliteError& e) {
      group_error = to_error(e);
    }
    for (Job* job : group) {
      if (group_error) break;
      try {
        writer_->prepare("SAVEPOINT write").run();
        try {
          (*job->work)(*writer_);
          writer_->prepare("RELEASE write").run();
        } catch (...) {
          try {
            throw;
          } catch (const SqliteError& e) {
            job->error = to_error(e);
          } catch (...) {
            job->exception = std::current_exception();
          }
          writer_->exec("ROLLBACK TO write");
          writer_->prepare("RELEASE write").run();
        }
      } catch (const SqliteError& e) {
        group_error = to_error(e);  // the savepoint machinery itself failed
      }
    }
    if (!group_error) {
      std::optional<Clock::time_point> commit_start;
      try {
        if (hooks_.before) hooks_.before(*writer_);
        commit_start = Clock::now();
        writer_->prepare("COMMIT").run();
      } catch (const SqliteError& e) {
        group_error = to_error(e);
      }
      // A COMMIT that failed (often after a long stall on a failing disk) counts too.
      if (commit_start) in_commit = Clock::now() - *commit_start;
      if (!group_error && hooks_.after) hooks_.after();
    }
    if (group_error) {
      try {
        writer_->exec("ROLLBACK");
      } catch (...) {
      }
    }
    {
      // Counted before any caller wakes, so a caller that returned sees its write counted.
      std::lock_guard lk(group_mu_);
      stats_.writes += group.size();
      ++stats_.commits;
      stats_.busy_seconds += std::chrono::duration<double>(Clock::now() - took).count();
      stats_.commit_seconds += std::chrono::duration<double>(in_commit).count();
      raise_writer_locked();  // at rest raised: the next group is most often a request's
    }
    for (size_t i = 0; i < group.size(); ++i) {
      Job* job = group[i];
      if (group_error && !job->error && !job->exception) job->error = group_error;
      for (size_t k = 0; k < 2; ++k) {
        const size_t below = 2 * i + 1 + k;
        job->wakes[k] = below < group.size() ? group[below] : nullptr;
      }
    }
    wake(group[0]);  // the group is never empty
  }
}

ConnectionPool::GroupStats ConnectionPool::group_stats() const {
  std::lock_guard lk(group_mu_);
  return stats_;
}

}  // namespace stagepass::sqlite

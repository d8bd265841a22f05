// The SQLite settings of the accounts store's writer connection (ConnectionPool), in one place
// so that the benchmarks' durable bound (bench/hello/hello_server.cpp --durable) runs the very
// writer stagepass runs. Why each value: connection_pool.cpp, where the pool applies them.
#pragma once

#include <cstddef>

namespace stagepass::sqlite::writer_settings {

inline constexpr size_t kMaxGroup = 512;         // bounds one transaction's size
inline constexpr int kCheckpointPages = 250;     // wal_autocheckpoint
inline constexpr int kCacheKiB = 64 * 1024;      // cache_size (a maximum)
inline constexpr int kDefaultPriorityStep = 10;  // STAGEPASS_WRITER_PRIORITY's default

}  // namespace stagepass::sqlite::writer_settings

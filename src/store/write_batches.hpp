// write_in_batches: hands many independent rows to a store in calls of at most
// kRowsPerWrite rows each, so that no one call holds the store's writer for long. On SQLite
// every durable write (a refresh, a code exchange) queues behind the one writer thread: the
// Web API's "last used" flush of 10,000 grants was one job of 40-240 ms there, and every
// write queued behind it waited as long (issue 17, the mixed row's p99). In calls of 128 rows
// the writer takes the requests' writes in between, and a call costs the writes grouped with
// it a few milliseconds at most. On PostgreSQL it bounds how long one transaction holds its
// row locks.
//
// The rows must not depend on each other (each call is its own transaction), and a row
// written twice must do no harm: a caller may put the rows not written back for its next
// flush (BatchedWrite::left), and rows written before a failure stay written.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "core/result.hpp"

namespace stagepass {

inline constexpr size_t kRowsPerWrite = 128;

template <class T>
struct BatchedWrite {
  Status<> status = Ok{};  // or the failure of the first call that failed
  std::vector<T> left;     // the rows of that call and of every later one (not written)
};

// Calls write(const std::vector<T>&) on consecutive slices of `rows` (copies), in order, each
// of at most `per_call` rows (0 counts as 1), until one fails.
template <class T, class Write>
BatchedWrite<T> write_in_batches(const std::vector<T>& rows, Write&& write,
                                 size_t per_call = kRowsPerWrite) {
  per_call = std::max<size_t>(1, per_call);
  for (size_t from = 0; from < rows.size(); from += per_call) {
    const size_t n = std::min(per_call, rows.size() - from);
    const auto first = rows.begin() + static_cast<std::ptrdiff_t>(from);
    Status<> st = write(std::vector<T>(first, first + static_cast<std::ptrdiff_t>(n)));
    if (!st) return {std::move(st), std::vector<T>(first, rows.end())};
  }
  return {Ok{}, {}};
}

}  // namespace stagepass

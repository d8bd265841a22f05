#include "app/jwks_refresher.hpp"

#include <algorithm>

namespace stagepass {

JwksRefresher::JwksRefresher(const Clock& clock, Settings settings, Fetch fetch, Install install,
                             Failed failed)
    : clock_(clock),
      s_(settings),
      fetch_(std::move(fetch)),
      install_(std::move(install)),
      failed_(std::move(failed)),
      interval_(settings.refresh) {}

void JwksRefresher::unknown_kid() {
  // Only the first note after a fetch wakes the fetcher, and only when a fetch may start now;
  // otherwise the note waits in kid_pending_ for run() on the next tick past `retry`.
  if (kid_pending_.exchange(true)) return;
  if (!in_flight_.load() && may_fetch_for_kid(clock_.now()) && wake_) wake_();
}

bool JwksRefresher::run(bool force) {
  const int64_t now = clock_.now();
  const bool periodic = failed_last_.load() ? now - last_attempt_.load() >= s_.retry
                                            : now - last_success_.load() >= interval_.load();
  const bool due = force || periodic || (kid_pending_.load() && may_fetch_for_kid(now));
  if (!due) return false;
  if (in_flight_.exchange(true)) return false;  // single flight: one fetch at a time
  last_attempt_ = now;
  kid_pending_ = false;  // a kid noted from here on asks for the next fetch
  Fetched got = fetch_();
  if (got.keys) {
    install_(std::move(got.keys));
    last_success_ = now;
    interval_ = got.max_age >= 0 ? std::min(s_.refresh, got.max_age) : s_.refresh;
    failed_last_ = false;
  } else {
    failed_last_ = true;
    if (failed_) failed_(got.error);
  }
  in_flight_ = false;
  return true;
}

}  // namespace stagepass

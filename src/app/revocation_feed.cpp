#include "app/revocation_feed.hpp"

#include "monitor/log.hpp"

namespace stagepass {

void RevocationFeed::poll() {
  const uint64_t ticket = asked_.fetch_add(1) + 1;
  std::lock_guard lk(mu_);
  // A poll that began after this call was made already ran while we waited for the lock.
  if (served_ >= ticket) return;
  const uint64_t covers_through = asked_.load();
  // Only a poll that read the store serves the calls waiting on it; after a failed read the
  // next caller polls again.
  auto read = poll_locked();
  const int64_t now = clock_.now();
  if (read) {
    served_ = covers_through;
    last_read_ = now;
    loaded_ = true;
  } else if (now >= next_failure_log_) {
    next_failure_log_ = now + kFailureLogSeconds;
    log::event("error", "revocations log not read; this node refuses only what it knew",
               {{"error", read.error().message}, {"seconds_since_last_read", age()}});
  }
}

uint64_t RevocationFeed::holes_dropped() const {
  std::lock_guard lk(mu_);
  return gaps_.dropped();
}

void RevocationFeed::apply(const RevocationEntry& e) {
  if (e.kind == kRevokedGrant) {
    set_.add(e.id, e.client_id, e.at);
  } else if (e.kind == kRevokedToken) {
    set_.add_token(e.id, e.client_id, e.at);
  } else if (e.kind == kRevokedClient) {
    set_.add_client(e.client_id, e.at);
    if (on_deleted_) on_deleted_(e.client_id);
  } else if (e.kind == kRevokedCut) {
    set_.add_client_cut(e.client_id, e.at);
  } else if (e.kind == kRevokedSuspension) {
    set_.add_suspension(e.client_id, e.at);
  } else {
    // A kind from a newer version: refusing the client's tokens up to then fails closed.
    set_.add_suspension(e.client_id, e.at);
  }
  ++applied_;
}

Status<> RevocationFeed::start_locked(int64_t now) {
  auto start = log_.revocation_start(now - retention_, now - lookback_);
  if (!start) return fail(std::move(start.error()));
  // The retention window up to `settled`: every number there has committed or never will.
  for (int64_t at = start->first; at < start->settled;) {
    auto page = log_.revocations_after(at, kPage);
    if (!page) return fail(std::move(page.error()));
    for (const auto& e : *page) {
      if (e.seq > start->settled) break;
      apply(e);
      at = e.seq;
    }
    if (page->size() < static_cast<size_t>(kPage) || page->back().seq > start->settled) break;
  }
  // Above it, a missing number may be a revocation still in flight: a hole to wait for.
  gaps_.start_after(start->settled);
  started_ = true;
  return Ok{};
}

Status<> RevocationFeed::poll_locked() {
  const int64_t now = clock_.now();
  if (!started_) {
    if (auto s = start_locked(now); !s) return s;
  }
  for (;;) {
    auto page = log_.revocations_after(gaps_.last(), kPage);
    if (!page) return fail(std::move(page.error()));
    for (const auto& e : *page) {
      if (gaps_.read(e.seq, now)) apply(e);
    }
    if (page->size() < static_cast<size_t>(kPage)) break;
  }
  // Holes seen within the lookback: a transaction that took its seq before a later one
  // committed may have committed since.
  gaps_.expire(now);
  if (gaps_.size() > 0) {
    auto filled = log_.revocations_in(gaps_.holes(1000));
    if (!filled) return fail(std::move(filled.error()));
    for (const auto& e : *filled) {
      if (gaps_.read(e.seq, now)) apply(e);
    }
  }
  // The expiry sweep walks every entry under the set's exclusive lock: once a second at
  // most, however many revocations wake the feed.
  if (now >= next_sweep_) {
    set_.expire(now);
    next_sweep_ = now + 1;
  }
  if (prune_ && now >= next_prune_) prune(now);
  return Ok{};
}

void RevocationFeed::prune(int64_t now) {
  const int64_t before = now - retention_ - lookback_;
  auto log = prune_->prune_revocations(before, kPruneBatch);
  auto deleted = prune_->prune_deleted_clients(before);
  if (!log || !deleted) return;  // tried again on the next poll
  // A full batch: more is left; the next run (a second later) takes the next batch.
  next_prune_ = now + (*log >= kPruneBatch ? 1 : 3600);
}

}  // namespace stagepass

#include "app/revocation_follower.hpp"

#include "monitor/log.hpp"
#include "store/postgresql/pg_notify_waker.hpp"

namespace stagepass {

bool is_postgresql_url(const std::string& database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

std::unique_ptr<RevocationWaker> make_revocation_waker(const Config& cfg) {
  const bool pg = is_postgresql_url(cfg.database);
  const std::string& push = cfg.revocation_push;
  if (!push.empty() && push != "notify" && push != "poll") {
    throw std::runtime_error("STAGEPASS_REVOCATION_PUSH must be notify or poll, got '" + push +
                             "'");
  }
  if (push == "notify" && !pg) {
    throw std::runtime_error(
        "STAGEPASS_REVOCATION_PUSH=notify needs STAGEPASS_DATABASE=postgresql://... (SQLite "
        "always polls)");
  }
  if (pg && push != "poll") return std::make_unique<postgresql::PgNotifyWaker>(cfg.database);
  return std::make_unique<PollingWaker>();
}

void RevocationFollower::start() {
  thread_ = std::thread([this] {
    while (!stopping_) {
      try {
        poll_();
      } catch (const std::exception& e) {
        log::event("error", "revocation feed failed", {{"error", e.what()}});
      }
      waker_.wait(interval_);
    }
  });
}

void RevocationFollower::stop() {
  stopping_ = true;
  waker_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace stagepass

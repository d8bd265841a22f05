#include "store/sqlite/connection_pool.hpp"

#include <filesystem>

namespace stagepass::sqlite {

ConnectionPool::ConnectionPool(const std::string& path, int readers,
                               const std::function<void(Connection&)>& migrate) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  writer_ = std::make_unique<Connection>(path);
  migrate(*writer_);
  for (int i = 0; i < std::max(1, readers); ++i)
    readers_.push_back(std::make_unique<Connection>(path));
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

}  // namespace stagepass::sqlite

// MemoryTokenStore (see stagepass/token_store.hpp for the contract).
#include <memory>
#include <mutex>

#include "stagepass/token_store.hpp"

namespace stagepass::sdk {

namespace {
class MemoryGuard final : public TokenStore::Guard {
 public:
  explicit MemoryGuard(std::recursive_mutex& mu) : lock_(mu) {}

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};
}  // namespace

Result<std::optional<TokenSet>> MemoryTokenStore::load(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::optional<TokenSet>();
  return std::optional<TokenSet>(it->second);
}

Result<void> MemoryTokenStore::save(const std::string& key, const TokenSet& tokens) {
  std::lock_guard lock(mu_);
  entries_[key] = tokens;
  return {};
}

Result<void> MemoryTokenStore::erase(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
  return {};
}

Result<std::unique_ptr<TokenStore::Guard>> MemoryTokenStore::exclusive() {
  return std::unique_ptr<Guard>(std::make_unique<MemoryGuard>(mu_));
}

}  // namespace stagepass::sdk

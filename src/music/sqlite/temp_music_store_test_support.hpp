// For unit tests: a SqliteMusicStore on a fresh file in a temporary directory, removed with
// it, holding a small generated catalog (scale 0.01: 20 artists, 100 albums, 1,000 tracks).
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/random.hpp"
#include "music/catalog_generator.hpp"
#include "music/sqlite/sqlite_music_store.hpp"

namespace stagepass::music {

class TempMusicStore {
 public:
  explicit TempMusicStore(const std::string& prefix, double scale = 0.01, int readers = 1)
      : dir_(std::filesystem::temp_directory_path() / (prefix + SystemRandom().id22())),
        store_(std::make_unique<SqliteMusicStore>((dir_ / "music.db").string(), readers)) {
    if (auto r = ensure_catalog(*store_, {42, scale}); !r) {
      store_.reset();
      std::filesystem::remove_all(dir_);
      throw std::runtime_error("TempMusicStore: " + r.error().message);
    }
  }
  ~TempMusicStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  TempMusicStore(const TempMusicStore&) = delete;
  TempMusicStore& operator=(const TempMusicStore&) = delete;

  SqliteMusicStore& operator*() { return *store_; }
  std::string path() const { return (dir_ / "music.db").string(); }
  SqliteMusicStore* operator->() { return store_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<SqliteMusicStore> store_;
};

}  // namespace stagepass::music

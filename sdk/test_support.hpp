// Fixtures shared by the SDK's GoogleTest files.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace stagepass::sdk::testing {

// A fresh directory under /tmp (its canonical path), removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/sp_sdk_test_XXXXXX";
    if (::mkdtemp(name) == nullptr) std::abort();
    path_ = std::filesystem::canonical(name);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace stagepass::sdk::testing

// Shared by the libFuzzer harnesses in fuzz/: a failed invariant aborts with a message, so
// libFuzzer records the input as a crash (make fuzz fails and keeps crash-<sha1>).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace stagepass::fuzz {

// Printable form of attacker bytes for a failure message (C escapes for the rest).
inline std::string escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

[[noreturn]] inline void invariant_failed(const char* what, const char* file, int line,
                                          std::string_view detail) {
  std::fprintf(stderr, "\n==fuzz== invariant failed at %s:%d: %s\n==fuzz== %s\n", file, line, what,
               escaped(detail).c_str());
  std::abort();
}

// A fresh directory for files a harness needs (SQLite databases), under $TMPDIR, removed
// at normal exit. make fuzz points TMPDIR at a RAM disk when there is one.
inline std::filesystem::path scratch_dir(const char* name) {
  auto base = std::filesystem::temp_directory_path();
  std::string tmpl = (base / (std::string("stagepass-fuzz-") + name + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) std::abort();
  static std::filesystem::path dir;
  dir = tmpl;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  return dir;
}

}  // namespace stagepass::fuzz

// FUZZ_CHECK(condition, detail): aborts with `detail` (a string_view) when condition is false.
#define FUZZ_CHECK(cond, detail)                                                         \
  do {                                                                                   \
    if (!(cond)) ::stagepass::fuzz::invariant_failed(#cond, __FILE__, __LINE__, detail); \
  } while (0)

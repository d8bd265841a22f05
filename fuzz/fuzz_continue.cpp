// Harness: where sign-in continues to (web::safe_continue, the `continue` parameter).
//
// Input: the decoded `continue` value as the login form posts it.
// Invariant (issue 13 §1, "Response splitting / open redirect through continue"): the result
// is "/" or a same-origin path: it starts with exactly one "/", contains no "//", no
// backslash, no CR, LF, TAB or other control byte (nor DEL), so it can neither leave the
// origin nor split the Location header it is written into.
//
// FUZZ_CONTINUE_STRICT=0 in the environment checks only "no crash, and the result is '/' or
// starts with '/'": the rule the code promised before issue 13 (for bisecting).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "web/site.hpp"

using namespace stagepass;

namespace {

bool strict() {
  static const bool s = [] {
    const char* v = std::getenv("FUZZ_CONTINUE_STRICT");
    return !v || std::string_view(v) != "0";
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string out = web::safe_continue(in);
  FUZZ_CHECK(web::safe_continue(std::nullopt) == "/", "absent continue");
  FUZZ_CHECK(!out.empty() && out[0] == '/', in);
  if (!strict() || out == "/") return 0;
  FUZZ_CHECK(out.size() < 2 || out[1] != '/', in);
  FUZZ_CHECK(out.find("//") == std::string::npos, in);
  for (unsigned char c : out) FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != '\\', in);
  return 0;
}

// Harness: where sign-in continues to (web::safe_continue, the `continue` parameter).
//
// Input: the decoded `continue` value as the login form posts it.
// Invariant (issue 13 §1, "Response splitting / open redirect through continue"): the result
// is "/" or a same-origin path: it starts with exactly one "/" not followed by "/" or "\" (a
// browser reads "//host" and "/\host" as another origin), holds only printable ASCII without
// space or backslash (no CR, LF, TAB, NUL or other control byte that could split the Location
// header it is written into), is at most kMaxContinueLength bytes, and is a fixed point.
// A later "//" ("/a//b") is a path on this origin and allowed.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_check.hpp"
#include "web/safe_continue.hpp"

using namespace stagepass;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string out = web::safe_continue(in);
  FUZZ_CHECK(web::safe_continue(std::nullopt) == "/", "absent continue");
  FUZZ_CHECK(!out.empty() && out[0] == '/', in);
  FUZZ_CHECK(out.size() <= web::kMaxContinueLength, in);
  FUZZ_CHECK(out.size() < 2 || (out[1] != '/' && out[1] != '\\'), in);
  for (unsigned char c : out) FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '\\', in);
  FUZZ_CHECK(web::safe_continue(out) == out, in);
  if (out != "/") FUZZ_CHECK(out == in, in);  // kept as given, or replaced by "/"
  return 0;
}

// Harness: form and query decoding (core/text): Form::parse, percent_decode/percent_encode,
// form_encode. The input is an application/x-www-form-urlencoded body or query string.
//
// Invariants beyond "no crash":
//  - decoding never grows the text, and encode-then-decode is the identity (both modes);
//  - percent_encode emits only RFC 3986 unreserved characters and upper-case %XX escapes;
//  - a parsed form re-encoded with form_encode parses back to the same pairs;
//  - get() is the first occurrence (empty counts as absent), duplicate() finds a repeat.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/text.hpp"
#include "fuzz_check.hpp"

using namespace stagepass;

namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

void check_encoding(std::string_view raw) {
  std::string enc = percent_encode(raw);
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%') {
      FUZZ_CHECK(i + 2 < enc.size() && upper_hex(enc[i + 1]) && upper_hex(enc[i + 2]), enc);
      i += 2;
    } else {
      FUZZ_CHECK(unreserved(enc[i]), enc);
    }
  }
  for (bool plus : {false, true}) {
    auto back = percent_decode(enc, plus);
    FUZZ_CHECK(back && *back == raw, raw);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  for (bool plus : {false, true}) {
    auto decoded = percent_decode(in, plus);
    if (!decoded) {
      FUZZ_CHECK(in.find('%') != std::string_view::npos, in);  // only a bad escape fails
      continue;
    }
    FUZZ_CHECK(decoded->size() <= in.size(), in);
    if (in.find('%') == std::string_view::npos && !plus) FUZZ_CHECK(*decoded == in, in);
    check_encoding(*decoded);
  }
  check_encoding(in);

  auto form = Form::parse(in);
  if (!form) return 0;
  const auto& pairs = form->pairs();
  auto again = Form::parse(form_encode(pairs));
  FUZZ_CHECK(again && again->pairs() == pairs, in);

  std::set<std::string> names;
  bool repeated = false;
  for (const auto& [name, value] : pairs) {
    bool first = names.insert(name).second;
    repeated = repeated || !first;
    if (first) {
      auto got = form->get(name);
      FUZZ_CHECK(value.empty() ? !got : got && *got == value, name);
    }
  }
  FUZZ_CHECK(form->duplicate().has_value() == repeated, in);
  if (auto dup = form->duplicate()) FUZZ_CHECK(names.count(*dup) == 1, *dup);
  return 0;
}

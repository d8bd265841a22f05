// Text helpers for the wire: percent-encoding (RFC 3986), application/x-www-form-urlencoded
// (WHATWG URL §5), space-separated lists. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stagepass {

// Decodes %XX escapes; with plus_as_space also '+' (form encoding). nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space);
// Encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view in);

// A parsed form or query string. Keeps every occurrence so callers can reject duplicates
// (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
class Form {
 public:
  // nullopt when an escape is malformed.
  static std::optional<Form> parse(std::string_view encoded);

  // The single value of a parameter; nullopt when absent. An empty value counts as absent
  // (RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
  // omitted").
  std::optional<std::string> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // The name of the first parameter that occurs more than once, if any.
  std::optional<std::string> duplicate() const;
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Builds "a=1&b=2" with percent-encoding.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& pairs);

std::vector<std::string> split_spaces(std::string_view s);
// The non-empty lines of `s` (the stores keep lists one item per line).
std::vector<std::string> split_lines(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool iequals(std::string_view a, std::string_view b);

// The first at most `max_bytes` bytes of `s`, cut at a UTF-8 character boundary: a cut that
// would split a character backs off over its continuation bytes (10xxxxxx) and drops it
// whole, so the prefix of valid UTF-8 is valid UTF-8 (for JSON and HTML). At most 3 bytes
// are given back (the longest sequence is 4 bytes); bytes that are not UTF-8 are not repaired.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

// `unix_seconds` as ISO 8601 UTC, "2026-12-04T10:00:00Z" (audit details, logs).
std::string iso8601_utc(int64_t unix_seconds);

}  // namespace stagepass

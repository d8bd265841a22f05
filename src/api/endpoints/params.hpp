// Request parameters of the Web API, parsed and bounded like Spotify's. Every parser returns
// either the value or the 400 response to send (naming the parameter), never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/api.hpp"

namespace stagepass::api::endpoints {

// A value or the error response to answer instead.
template <class T>
using Parsed = std::variant<T, http::Response>;
template <class T>
bool failed(const Parsed<T>& p) {
  return std::holds_alternative<http::Response>(p);
}

// `limit` (1..max, default `def`) and `offset` (0..max_offset, default 0).
Parsed<int> parse_limit(const ApiRequest& req, int def = 20, int max = 50);
Parsed<int64_t> parse_offset(const ApiRequest& req, int64_t max_offset = 100000);

// A base62 id from the path; 400 "Invalid base62 id" otherwise.
Parsed<std::string> path_id(const ApiRequest& req, const char* name = "id");
// Comma-separated ids from the query (`ids=`) or, when `body_ok`, a JSON body {"ids":[...]}.
// 400 when missing, empty, more than `max`, or any id is not base62.
Parsed<std::vector<std::string>> parse_ids(const ApiRequest& req, size_t max, bool body_ok = false);

// "stagepass:track:<id>" or "spotify:track:<id>": the id when the kind matches.
std::optional<std::string> uri_id(std::string_view uri, std::string_view kind);
// Any "stagepass|spotify:<kind>:<id>" uri rewritten as stagepass:<kind>:<id>; nullopt when not
// one of ours (`kinds` lists the accepted kinds).
std::optional<std::string> normalize_uri(std::string_view uri,
                                         const std::vector<std::string>& kinds);

// Integer in [lo, hi] from the query; nullopt when absent; 400 naming it when malformed.
Parsed<std::optional<int64_t>> parse_int(const ApiRequest& req, const char* name, int64_t lo,
                                         int64_t hi);
// A required JSON object body; 400 when the body is missing or not a JSON object.
Parsed<boost::json::object> json_object_body(const ApiRequest& req, bool allow_empty = false);

// Splits "a,b,c", trimming spaces, dropping empty parts.
std::vector<std::string> split_commas(std::string_view s);

}  // namespace stagepass::api::endpoints

#include "api/endpoints/params.hpp"

#include <charconv>

#include "music/ids.hpp"

namespace stagepass::api::endpoints {
namespace {

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    auto part = s.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    start = end + 1;
  }
  return out;
}

Parsed<int> parse_limit(const ApiRequest& req, int def, int max) {
  auto raw = req.param("limit");
  if (!raw) return def;
  auto v = to_int(*raw);
  if (!v || *v < 1 || *v > max) return error(400, "Invalid limit");
  return static_cast<int>(*v);
}

Parsed<int64_t> parse_offset(const ApiRequest& req, int64_t max_offset) {
  auto raw = req.param("offset");
  if (!raw) return int64_t{0};
  auto v = to_int(*raw);
  if (!v || *v < 0 || *v > max_offset) return error(400, "Invalid offset");
  return *v;
}

Parsed<std::string> path_id(const ApiRequest& req, const char* name) {
  auto it = req.path.find(name);
  if (it == req.path.end() || !music::is_base62_id(it->second)) {
    return error(400, "Invalid base62 id");
  }
  return it->second;
}

Parsed<std::vector<std::string>> parse_ids(const ApiRequest& req, size_t max, bool body_ok) {
  std::vector<std::string> ids;
  if (auto raw = req.param("ids")) {
    ids = split_commas(*raw);
  } else if (body_ok && !req.http.body().empty()) {
    auto body = req.json_body();
    if (!body || (!body->is_object() && !body->is_array()))
      return error(400, "Error parsing JSON.");
    // Spotify takes {"ids": [...]} and, as its official SDK sends, a bare array.
    const boost::json::value* list =
        body->is_array() ? &*body : body->as_object().if_contains("ids");
    if (!list || !list->is_array()) return error(400, "Missing required field: ids");
    for (const auto& v : list->as_array()) {
      if (!v.is_string()) return error(400, "Invalid base62 id");
      ids.emplace_back(v.as_string());
    }
  } else {
    return error(400, "Missing required field: ids");
  }
  if (ids.empty()) return error(400, "Missing required field: ids");
  if (ids.size() > max) return error(400, "Too many ids requested");
  for (auto& id : ids) {
    // Clients sometimes pass uris where ids belong; accept the id they name.
    if (auto pos = id.rfind(':'); pos != std::string::npos) id = id.substr(pos + 1);
    if (!music::is_base62_id(id)) return error(400, "Invalid base62 id");
  }
  return ids;
}

std::optional<std::string> uri_id(std::string_view uri, std::string_view kind) {
  for (std::string_view scheme : {"stagepass:", "spotify:"}) {
    if (!uri.starts_with(scheme)) continue;
    auto rest = uri.substr(scheme.size());
    if (!rest.starts_with(kind) || rest.size() <= kind.size() || rest[kind.size()] != ':') {
      return std::nullopt;
    }
    auto id = rest.substr(kind.size() + 1);
    if (!music::is_base62_id(id)) return std::nullopt;
    return std::string(id);
  }
  return std::nullopt;
}

std::optional<std::string> normalize_uri(std::string_view uri,
                                         const std::vector<std::string>& kinds) {
  for (const auto& k : kinds) {
    if (auto id = uri_id(uri, k)) return "stagepass:" + k + ":" + *id;
  }
  return std::nullopt;
}

Parsed<std::optional<int64_t>> parse_int(const ApiRequest& req, const char* name, int64_t lo,
                                         int64_t hi) {
  auto raw = req.param(name);
  if (!raw) return std::optional<int64_t>{};
  auto v = to_int(*raw);
  if (!v || *v < lo || *v > hi) return error(400, std::string("Invalid ") + name);
  return std::optional<int64_t>(*v);
}

Parsed<boost::json::object> json_object_body(const ApiRequest& req, bool allow_empty) {
  if (req.http.body().empty()) {
    if (allow_empty) return boost::json::object{};
    return error(400, "Error parsing JSON.");
  }
  auto body = req.json_body();
  if (!body || !body->is_object()) return error(400, "Error parsing JSON.");
  return std::move(body->as_object());
}

}  // namespace stagepass::api::endpoints

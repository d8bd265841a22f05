#include "api/api.hpp"

namespace stagepass::api {
namespace json_ns = boost::json;

std::optional<json_ns::value> ApiRequest::json_body() const {
  if (http.body().empty()) return std::nullopt;
  json_ns::error_code ec;
  auto v = json_ns::parse(http.body(), ec);
  if (ec) return std::nullopt;
  return v;
}

http::Response json(int status, const json_ns::value& body) {
  return http::Response::json(status, json_ns::serialize(body));
}

http::Response error(int status, std::string message) {
  return json(status,
              json_ns::object{{"error", {{"status", status}, {"message", std::move(message)}}}});
}

http::Response error(int status, std::string message, std::string_view reason) {
  return json(
      status,
      json_ns::object{
          {"error", {{"status", status}, {"message", std::move(message)}, {"reason", reason}}}});
}

http::Response insufficient_scope(const std::string& needed) {
  auto r = error(403, "Insufficient client scope");
  // RFC 6750 §3.1.
  r.header("WWW-Authenticate",
           "Bearer realm=\"stagepass\", error=\"insufficient_scope\", scope=\"" + needed + "\"");
  return r;
}

http::Response ok_empty() { return http::Response{200, {}, {}, {}}; }
http::Response no_content() { return http::Response{204, {}, {}, {}}; }

namespace {
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
bool is_capture(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}
}  // namespace

void ApiRoutes::add(std::string method, std::string_view pattern, Requirement requirement,
                    Handler h, FastHandler fast) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(requirement), std::move(h),
                     std::move(fast)});
}

std::optional<ApiRoutes::Match> ApiRoutes::match(std::string_view method,
                                                 std::string_view path) const {
  auto segs = split_path(path);
  std::optional<Match> best;
  int best_exact = -1;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::unordered_map<std::string, std::string> captured;
    int exact = 0;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (is_capture(r.segments[i])) {
        auto decoded = percent_decode(segs[i], false);
        if (!decoded || decoded->empty())
          ok = false;
        else
          captured[r.segments[i].substr(1, r.segments[i].size() - 2)] = std::move(*decoded);
      } else if (r.segments[i] == segs[i]) {
        ++exact;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (!best) best = Match{};
    if (exact > best_exact && r.method == method) {
      // The best route for this method: the most exact segments.
      best->route = &r;
      best->path = std::move(captured);
      best_exact = exact;
    }
    if (best->allow.find(r.method) == std::string::npos) {
      best->allow += (best->allow.empty() ? "" : ", ") + r.method;
    }
  }
  return best;
}

}  // namespace stagepass::api

#include "web/app_registration.hpp"

#include <algorithm>

#include "oauth/redirect_uri.hpp"

namespace stagepass::web {
namespace {

constexpr std::string_view kScopePrefix = "scope:";
constexpr size_t kMaxProblemsShown = 3;  // per field: enough to fix, never a wall of text

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// The number of characters of `s` if it is well-formed UTF-8 (RFC 3629: no overlong form, no
// surrogate, nothing above U+10FFFF) without control characters (C0 but `allowed`, DEL, C1);
// nullopt otherwise.
std::optional<size_t> text_chars(std::string_view s, std::string_view allowed = {}) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++chars) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if ((b < 0x20 && allowed.find(static_cast<char>(b)) == std::string_view::npos) || b == 0x7f)
        return std::nullopt;
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xe0) == 0xc0) {
      len = 2, cp = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
      len = 3, cp = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
      len = 4, cp = b & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + len > s.size()) return std::nullopt;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp <= 0x9f)) {
      return std::nullopt;
    }
    i += len;
  }
  return chars;
}

// The non-empty lines of `text`, trimmed, first occurrence of each kept.
std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = trim(text.substr(start, nl - start));
    if (!line.empty() && std::find(out.begin(), out.end(), line) == out.end())
      out.push_back(std::move(line));
    start = nl + 1;
  }
  return out;
}

// `value` quoted for a message, cut to a readable length.
std::string shown(std::string_view value) {
  constexpr size_t kMax = 80;
  std::string out = "\"";
  out.append(utf8_prefix(value, kMax));
  if (value.size() > kMax) out.append("…");
  return out.append("\"");
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Checks every line with `problem`; fills `values` (or `error` with up to kMaxProblemsShown
// problems, each naming its line's value).
template <class Problem>
void check_lines(std::string_view text, size_t max_count, const char* what, Problem problem,
                 std::vector<std::string>& values, std::string& error) {
  values = lines(text);
  if (values.size() > max_count) {
    error = "At most " + std::to_string(max_count) + " " + what + " (one per line); you gave " +
            std::to_string(values.size()) + ".";
    return;
  }
  size_t problems = 0;
  for (const auto& v : values) {
    auto p = problem(v);
    if (!p) continue;
    if (++problems > kMaxProblemsShown) break;
    if (!error.empty()) error += " ";
    error += shown(v) + ": " + *p + ".";
  }
}

}  // namespace

std::optional<std::string> web_origin_problem(std::string_view origin) {
  if (origin.size() > kMaxWebOriginBytes) return "an origin is at most 300 characters";
  const std::string o = lower(std::string(origin));
  const size_t authority = o.find("://");
  const std::string scheme = authority == std::string::npos ? "" : o.substr(0, authority);
  if (scheme != "https" && scheme != "http") {
    return "an origin is https://host[:port] (or http://127.0.0.1[:port], http://[::1][:port])";
  }
  if (o.find_first_of("/?#", authority + 3) != std::string::npos) {
    return "an origin has no path: scheme://host[:port] only";
  }
  // The same host rules as redirect URIs: no localhost, http only on a loopback IP literal,
  // plain ASCII hosts.
  if (auto p = oauth::redirect_uri_problem(o)) {
    std::string why = *p;
    if (why.starts_with("redirect URI ")) why = "the origin " + why.substr(13);
    return why;
  }
  if ((scheme == "https" && o.ends_with(":443")) || (scheme == "http" && o.ends_with(":80"))) {
    return "leave out the default port: a browser sends the origin without it";
  }
  return std::nullopt;
}

AppFormInput app_form_input(const Form& form) {
  AppFormInput in;
  in.name = form.get("name").value_or("");
  in.description = form.get("description").value_or("");
  in.redirect_uris = form.get("redirect_uris").value_or("");
  in.web_origins = form.get("web_origins").value_or("");
  in.type = form.get("type").value_or("");
  for (const auto& [name, value] : form.pairs()) {
    if (name.starts_with(kScopePrefix) && !value.empty())
      in.scopes.push_back(name.substr(kScopePrefix.size()));
  }
  return in;
}

Result<AppSettings, AppFormErrors> validate_app_form(const AppFormInput& in) {
  AppFormErrors e;
  AppSettings out;

  out.name = trim(in.name);
  if (out.name.empty()) {
    e.name = "Give the app a name.";
  } else if (auto n = text_chars(out.name); !n) {
    e.name = "Use letters, digits and punctuation only (no control characters).";
  } else if (*n > kMaxAppNameChars) {
    e.name = "At most 100 characters.";
  }

  std::string description = trim(in.description);
  std::erase(description, '\r');
  if (auto n = text_chars(description, "\n\t"); !n) {
    e.description = "Use text only (no control characters).";
  } else if (*n > kMaxAppDescriptionChars) {
    e.description = "At most 500 characters.";
  }
  out.description = std::move(description);

  // RFC 6749 §3.1.2.2: the authorization server MUST require clients to register their
  // redirection endpoint (public clients, and confidential ones using the code grant).
  check_lines(
      in.redirect_uris, kMaxRedirectUris, "redirect URIs",
      [](const std::string& u) -> std::optional<std::string> {
        if (!text_chars(u)) return "not UTF-8 text";
        return oauth::redirect_uri_problem(u);
      },
      out.redirect_uris, e.redirect_uris);
  if (e.redirect_uris.empty() && out.redirect_uris.empty())
    e.redirect_uris = "Add at least one redirect URI.";

  check_lines(in.web_origins, kMaxWebOrigins, "web origins", web_origin_problem, out.web_origins,
              e.web_origins);
  for (auto& o : out.web_origins) o = lower(o);

  std::string names;
  for (const auto& s : in.scopes) {
    if (!find_scope(s)) {
      e.scopes = "Unknown scope " + shown(s) + ".";
      break;
    }
    names += s + " ";
  }
  out.scopes = ScopeSet::parse(names);

  if (in.type == "public") {
    out.is_public = true;
  } else if (in.type != "confidential") {
    e.type = "Choose confidential (a backend keeps a secret) or public (PKCE, no secret).";
  }

  if (e.any()) return fail(std::move(e));
  return out;
}

}  // namespace stagepass::web

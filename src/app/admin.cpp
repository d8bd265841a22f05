#include "app/admin.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "app/config_table.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"
#include "crypto/crypto.hpp"
#include "oauth/app_access.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/redirect_uri.hpp"
#include "oauth/secret_rotation.hpp"
#include "tokens/key_schedule.hpp"
#include "tokens/signing_keys.hpp"

namespace stagepass::admin {
namespace json = boost::json;

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool valid_origin(const std::string& o) {
  auto scheme_end = o.find("://");
  if (scheme_end == std::string::npos) return false;
  auto scheme = o.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return false;
  auto rest = o.substr(scheme_end + 3);
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string::npos;
}

json::object client_json(const Client& c, const std::string& secret) {
  json::array uris, scopes, origins;
  for (const auto& u : c.redirect_uris) uris.emplace_back(u);
  for (const auto& s : c.allowed_scopes.names()) scopes.emplace_back(s);
  for (const auto& o : c.web_origins) origins.emplace_back(o);
  json::object o{{"client_id", c.id}};
  if (!secret.empty()) o["client_secret"] = secret;
  o["name"] = c.name;
  o["public"] = c.is_public;
  o["token_endpoint_auth_method"] = c.is_public ? "none" : "client_secret_basic";
  o["redirect_uris"] = std::move(uris);
  o["scopes"] = std::move(scopes);
  o["web_origins"] = std::move(origins);
  o["created_at"] = c.created_at;
  o["rate_limit"] = c.rate_limit;
  o["introspect_any"] = c.introspect_any;
  o["mode"] = oauth::mode_name(c.development);  // issue15:devmode
  if (c.suspended_at > 0) {                     // issue15:abuse
    o["suspended_at"] = c.suspended_at;
    o["suspended_reason"] = c.suspended_reason;
  }
  return o;
}

void print_client(const Client& c, const std::string& secret) {
  std::cout << "client_id:     " << c.id << "\n";
  if (!secret.empty())
    std::cout << "client_secret: " << secret << "   (shown once; store it now)\n";
  std::cout << "name:          " << c.name << "\n"
            << "type:          " << (c.is_public ? "public (PKCE, no secret)" : "confidential")
            << "\n";
  for (const auto& u : c.redirect_uris) std::cout << "redirect_uri:  " << u << "\n";
  std::cout << "scopes:        " << c.allowed_scopes.str() << "\n";
  std::cout << "mode:          " << oauth::mode_name(c.development) << "\n";
  for (const auto& o : c.web_origins) std::cout << "web_origin:    " << o << "\n";
}

}  // namespace

int fail_line(const std::string& msg) {
  std::cerr << "stagepass: " << msg << "\n";
  return 1;
}

std::pair<Client, std::string> create_client(Store& store, Random& random, int64_t now,
                                             const NewClient& spec) {
  if (spec.name.empty() || spec.name.size() > 100)
    throw std::runtime_error("--name must be 1-100 characters");
  if (spec.redirect_uris.empty())
    throw std::runtime_error("at least one --redirect-uri is required");
  Client c;
  for (const auto& u : spec.redirect_uris) {
    if (auto problem = oauth::redirect_uri_problem(u))
      throw std::runtime_error(*problem + ": " + u);
    c.redirect_uris.push_back(u);
  }
  for (const auto& o : spec.web_origins) {
    if (!valid_origin(o))
      throw std::runtime_error("--web-origin must be scheme://host[:port]: " + o);
    c.web_origins.push_back(o);
  }
  c.allowed_scopes = spec.scopes ? ScopeSet::parse(*spec.scopes) : ScopeSet::all_known();
  if (auto unknown = c.allowed_scopes.first_unknown())
    throw std::runtime_error("unknown scope: " + *unknown);
  c.id = spec.fixed_id.value_or(hex(random.bytes(16)));
  c.name = spec.name;
  c.is_public = spec.is_public;
  c.created_at = now;
  c.rate_limit = spec.rate_limit;
  if (spec.introspect_any && spec.is_public)
    throw std::runtime_error("--introspect-any needs a confidential client");
  c.introspect_any = spec.introspect_any;
  c.development = spec.development;
  std::string secret;
  if (!c.is_public) {
    secret = spec.fixed_secret.value_or(random.token("sps_"));
    c.secret_hash = oauth::client_secret_hash(secret);
  }
  if (auto r = store.create_client(c); !r) {
    throw std::runtime_error(r.error().code == ErrorCode::kConflict
                                 ? "a client with this id exists"
                                 : "cannot store client: " + r.error().message);
  }
  return {c, secret};
}

User create_user(Store& store, Random& random, int64_t now, const std::string& email,
                 const std::string& display_name, const std::string& password) {
  if (email.find('@') == std::string::npos)
    throw std::runtime_error("--email must be an email address");
  if (display_name.empty()) throw std::runtime_error("--display-name must not be empty");
  if (password.size() < 8) throw std::runtime_error("the password must have at least 8 characters");
  User u;
  u.id = random.id22();
  u.email = email;
  for (auto& ch : u.email) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  u.display_name = display_name;
  u.password_hash = crypto::password_hash(password);
  u.created_at = now;
  if (auto r = store.create_user(u); !r) {
    throw std::runtime_error(r.error().code == ErrorCode::kConflict
                                 ? "a user with this email exists"
                                 : "cannot store user: " + r.error().message);
  }
  return u;
}

int user_create(Store& store, const std::string& email, const std::string& display_name,
                bool as_json, const std::function<void(const User&)>& on_created) {
  std::string password;
  std::getline(std::cin, password);
  SystemRandom random;
  SystemClock clock;
  try {
    User u = create_user(store, random, clock.now(), email, display_name, password);
    if (on_created) on_created(u);
    if (as_json) {
      std::cout << json::serialize(json::object{{"id", u.id},
                                                {"email", u.email},
                                                {"display_name", u.display_name},
                                                {"created_at", u.created_at}})
                << "\n";
    } else {
      std::cout << "id:           " << u.id << "\nemail:        " << u.email
                << "\ndisplay_name: " << u.display_name << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    return fail_line(e.what());
  }
}

int client_create(Store& store, const NewClient& spec, bool as_json) {
  SystemRandom random;
  SystemClock clock;
  try {
    auto [c, secret] = create_client(store, random, clock.now(), spec);
    if (as_json)
      std::cout << json::serialize(client_json(c, secret)) << "\n";
    else
      print_client(c, secret);
    return 0;
  } catch (const std::exception& e) {
    return fail_line(e.what());
  }
}

int client_list(Store& store, bool as_json) {
  auto clients = store.list_clients();
  if (!clients) return fail_line("cannot list clients: " + clients.error().message);
  if (as_json) {
    json::array arr;
    for (const auto& c : *clients) arr.push_back(client_json(c, ""));
    std::cout << json::serialize(arr) << "\n";
  } else {
    for (const auto& c : *clients) {
      std::cout << c.id << "  " << (c.is_public ? "public      " : "confidential") << "  " << c.name
                << "\n";
    }
  }
  return 0;
}

int client_show(Store& store, const std::string& id, bool as_json) {
  auto c = store.find_client(id);
  if (!c)
    return fail_line(c.error().code == ErrorCode::kNotFound ? "no client " + id
                                                            : c.error().message);
  if (as_json)
    std::cout << json::serialize(client_json(*c, "")) << "\n";
  else
    print_client(*c, "");
  return 0;
}

int client_delete(Store& store, const std::string& id, bool as_json) {
  SystemClock clock;
  auto c = store.find_client(id);
  auto r = store.delete_client(id, clock.now());
  if (!r)
    return fail_line(r.error().code == ErrorCode::kNotFound ? "no client " + id
                                                            : r.error().message);
  // An operator's action that ends every person's access through the app: in the audit
  // stream (`admin events`), beside the app's own revocations.
  std::string detail = "\"";
  // Cut at a character boundary: a split UTF-8 character would make the event invalid JSON text.
  detail.append(c ? utf8_prefix(c->name, 100) : "").append("\" deleted by an operator");
  if (auto e = store.record_event({0, clock.now(), "client_deleted", "", id, "", "", detail}); !e) {
    std::cerr << "warning: the client was deleted, but its audit event was not written: "
              << e.error().message << "\n";
  }
  if (as_json)
    std::cout << json::serialize(json::object{{"client_id", id}, {"deleted", true}}) << "\n";
  else
    std::cout << "deleted " << id << "\n";
  return 0;
}

int client_rotate_secret(Store& store, const std::string& id, const std::string& grace,
                         bool as_json) {
  auto seconds = oauth::parse_grace(grace);
  if (!seconds) {
    return fail_line("--grace must be a duration like 24h, 30m, 3s or 0 (hard cut), at most 30d");
  }
  SystemRandom random;
  SystemClock clock;
  // Running nodes learn a hard cut from their revocation feed (within about a second).
  oauth::SecretRotation rotation(store, random, clock, {}, [&store](AuditEvent e) {
    if (auto r = store.record_event(e); !r) {
      std::cerr << "warning: the secret was rotated, but its audit event was not written: "
                << r.error().message << "\n";
    }
  });
  auto r = rotation.rotate(id, *seconds, {});
  if (!r) {
    switch (r.error().code) {
      case ErrorCode::kNotFound:
        return fail_line("no client " + id);
      case ErrorCode::kConflict:
        return fail_line("client " + id + " is public: it has no secret to rotate");
      default:
        return fail_line("cannot rotate the secret: " + r.error().message);
    }
  }
  if (as_json) {
    std::cout << json::serialize(
                     json::object{{"client_id", r->client_id},
                                  {"client_secret", r->client_secret},
                                  {"previous_secret_expires_at", r->previous_secret_expires_at}})
              << "\n";
  } else {
    std::cout << "client_id:     " << r->client_id << "\n"
              << "client_secret: " << r->client_secret << "   (shown once; store it now)\n";
    if (*seconds == 0) {
      std::cout << "the previous secret stopped working now, and the app's access tokens issued "
                   "until now are revoked\n";
    } else {
      std::cout << "the previous secret works until " << r->previous_secret_expires_at
                << " (unix time)\n";
    }
  }
  return 0;
}

int client_suspend(Store& store, const std::string& id, const std::string& reason, bool suspend,
                   bool as_json, int64_t clock_skew) {
  SystemClock clock;
  // The reason travels in an RFC 6749 error_description: printable ASCII, short.
  for (unsigned char ch : reason) {
    if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
      return fail_line("--reason must be printable ASCII without quotes or backslashes");
  }
  if (reason.size() > 200) return fail_line("--reason must be at most 200 characters");
  const int64_t now = clock.now();
  const std::string why = reason.empty() ? "suspended by an operator" : reason;
  auto r = store.set_client_suspension(id, suspend ? now : 0, why, clock_skew);
  if (!r)
    return fail_line(r.error().code == ErrorCode::kNotFound ? "no client " + id
                                                            : r.error().message);
  const char* type = suspend ? "client_suspended" : "client_unsuspended";
  if (auto e = store.record_event(
          {0, now, type, "", id, "", "", suspend ? "by an operator: " + why : "by an operator"});
      !e) {
    std::cerr << "warning: done, but its audit event was not written: " << e.error().message
              << "\n";
  }
  if (suspend) (void)store.record_app_warning({0, id, now, type, "by an operator: " + why});
  if (as_json) {
    json::object o{{"client_id", id}, {"suspended", suspend}};
    if (suspend) {
      o["suspended_at"] = now;
      o["reason"] = why;
    }
    std::cout << json::serialize(o) << "\n";
  } else {
    std::cout << (suspend ? "suspended " : "unsuspended ") << id << "\n";
  }
  return 0;
}

namespace {

std::optional<int64_t> parse_since(const std::string& text, int64_t now) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), ::isdigit)) return std::stoll(text);
  const char unit = text.back();
  const std::string number = text.substr(0, text.size() - 1);
  if (!number.empty() && std::all_of(number.begin(), number.end(), ::isdigit)) {
    int64_t n = std::stoll(number);
    switch (unit) {
      case 's':
        return now - n;
      case 'm':
        return now - n * 60;
      case 'h':
        return now - n * 3600;
      case 'd':
        return now - n * 86400;
    }
  }
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == text.c_str() + text.size())
    return timegm(&tm);
  return std::nullopt;
}

}  // namespace

int events(Store& store, const std::string& since_text, const std::string& user_id, int limit) {
  SystemClock clock;
  auto since = parse_since(since_text, clock.now());
  if (!since)
    return fail_line("--since must be epoch seconds, an ISO 8601 UTC time or a duration like 24h");
  Result<std::vector<AuditEvent>> found = std::vector<AuditEvent>{};
  if (user_id.empty()) {
    found = store.events_since(*since, limit);
  } else {
    found = store.user_events(user_id, 0, limit);
    if (found) {
      std::erase_if(*found, [&](const AuditEvent& e) { return e.at < *since; });
      std::reverse(found->begin(), found->end());
    }
  }
  if (!found) return fail_line("cannot read events: " + found.error().message);
  for (const auto& e : *found) {
    std::cout << json::serialize(json::object{{"id", e.id},
                                              {"at", e.at},
                                              {"type", e.type},
                                              {"user_id", e.user_id},
                                              {"client_id", e.client_id},
                                              {"ip", e.ip},
                                              {"user_agent", e.user_agent},
                                              {"detail", e.detail}})
              << "\n";
  }
  return 0;
}

// ---- issue15:keys: signing keys

namespace {

KeyPolicy key_policy(const Config& cfg) {
  return {cfg.access_token_ttl + cfg.clock_skew, cfg.jwks_max_age};
}

}  // namespace

int keys_rotate(Store& store, const Config& cfg, const std::string& publish_ahead_text,
                bool as_json) {
  SystemRandom random;
  SystemClock clock;
  try {
    const KeyPolicy policy = key_policy(cfg);
    const int64_t publish_ahead =
        publish_ahead_text.empty()
            ? policy.default_publish_ahead()
            : parse_duration("--publish-ahead", publish_ahead_text, 0, 366 * 86400);
    const Secret master_key = cfg.resolve_master_key();
    // A key sealed under another master key would never be opened by the server: it would
    // keep signing with the current key, now scheduled to retire.
    auto stored = store.list_signing_keys();
    if (!stored) return fail_line("cannot read signing keys: " + stored.error().message);
    for (const auto& k : *stored) {
      if (!crypto::open(master_key, k.sealed_private_key)) {
        return fail_line("the master key does not open signing key " + k.kid +
                         " (wrong STAGEPASS_MASTER_KEY or STAGEPASS_MASTER_KEY_FILE?)");
      }
    }
    auto next = rotate_signing_key(store, master_key, random, clock.now(), publish_ahead, policy);
    if (!next) return fail_line(next.error().message);
    if (auto e = store.record_event({0, clock.now(), "signing_key_rotated", "", "", "", "",
                                     "next key " + next->kid + " signs from " +
                                         std::to_string(next->signs_from) + " (by an operator)"});
        !e) {
      std::cerr << "warning: the key was rotated, but its audit event was not written: "
                << e.error().message << "\n";
    }
    if (as_json) {
      std::cout << json::serialize(
                       json::object{{"kid", next->kid}, {"signs_from", next->signs_from}})
                << "\n";
    } else {
      std::cout << "kid:        " << next->kid << "\nsigns_from: " << next->signs_from
                << " (published now; the running server signs with it from then)\n";
    }
    return 0;
  } catch (const std::exception& e) {
    return fail_line(e.what());
  }
}

int keys_list(Store& store, bool as_json) {
  SystemClock clock;
  auto stored = store.list_signing_keys();
  if (!stored) return fail_line("cannot list signing keys: " + stored.error().message);
  const auto states = key_states(*stored, clock.now());
  json::array arr;
  for (size_t i = 0; i < stored->size(); ++i) {
    if (states[i] == KeyState::kRetired) continue;
    const SigningKey& k = (*stored)[i];
    json::value retire_at = nullptr;
    if (k.retire_at != 0) retire_at = k.retire_at;
    if (as_json) {
      arr.push_back(json::object{{"kid", k.kid},
                                 {"state", key_state_name(states[i])},
                                 {"signs_from", k.signs_from},
                                 {"retire_at", retire_at}});
    } else {
      std::cout << k.kid << "  " << key_state_name(states[i]) << "  signs_from " << k.signs_from;
      if (k.retire_at != 0) std::cout << "  retire_at " << k.retire_at;
      std::cout << "\n";
    }
  }
  if (as_json) std::cout << json::serialize(arr) << "\n";
  return 0;
}

}  // namespace stagepass::admin

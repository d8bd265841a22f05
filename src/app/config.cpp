#include "app/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/base64url.hpp"
#include "core/random.hpp"

namespace stagepass {
namespace {

// Every numeric setting has explicit bounds: a negative or huge value is refused at startup
// with one clear line, never wrapped into an int or past the end of a time (now + ttl).
int64_t parse_int(const std::string& name, const std::string& v, int64_t min, int64_t max) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n < min || n > max) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw std::runtime_error(name + " must be an integer from " + std::to_string(min) + " to " +
                             std::to_string(max) + ", got '" + v + "'");
  }
}

constexpr int64_t kMaxSeconds = 100LL * 365 * 24 * 3600;  // any lifetime or interval
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxCount = 1000000;  // attempts, sign-ups, connections

bool parse_bool(const std::string& name, const std::string& v) {
  if (v == "on" || v == "true" || v == "1") return true;
  if (v == "off" || v == "false" || v == "0") return false;
  throw std::runtime_error(name + " must be on/off, got '" + v + "'");
}

// Applies one setting, by its TOML key, from a string.
void apply(Config& c, const std::string& key, const std::string& v, const std::string& source) {
  auto num = [&](int64_t max, int64_t min = 0) { return parse_int(source, v, min, max); };
  auto seconds = [&] { return num(kMaxSeconds); };
  if (key == "listen")
    c.listen = v;
  else if (key == "issuer")
    c.issuer = v;
  else if (key == "audience")
    c.audience = v;
  else if (key == "database")
    c.database = v;
  else if (key == "master_key_file")
    c.master_key_file = v;
  else if (key == "access_token_ttl")
    c.access_token_ttl = seconds();
  else if (key == "refresh_token_ttl")
    c.refresh_token_ttl = seconds();
  else if (key == "refresh_idle_ttl")
    c.refresh_idle_ttl = seconds();
  else if (key == "refresh_grace")
    c.refresh_grace = seconds();
  else if (key == "code_ttl")
    c.code_ttl = seconds();
  else if (key == "threads")
    c.threads = static_cast<int>(num(kMaxThreads));
  else if (key == "store_threads")
    c.store_threads = static_cast<int>(num(kMaxThreads));
  else if (key == "commit_threads")
    c.commit_threads = static_cast<int>(num(kMaxThreads));
  else if (key == "login_max_failures")
    c.login_max_failures = static_cast<int>(num(kMaxCount, 1));
  else if (key == "max_body_bytes")
    c.max_body_bytes = num(1LL << 30);
  else if (key == "max_header_bytes")
    c.max_header_bytes = num(1LL << 20);
  else if (key == "max_connections")
    c.max_connections = num(kMaxCount, 1);
  else if (key == "access_log")
    c.access_log = parse_bool(source, v);
  else if (key == "roles")
    c.roles = v;
  else if (key == "music_database")
    c.music_database = v;
  else if (key == "catalog_scale") {
    try {
      c.catalog_scale = std::stod(v);
    } catch (const std::exception&) {
      throw std::runtime_error(source + " must be a number, got '" + v + "'");
    }
    if (c.catalog_scale <= 0 || c.catalog_scale > 10)
      throw std::runtime_error(source + " must be in (0, 10]");
  } else if (key == "clock_skew")
    c.clock_skew = num(3600);
  else if (key == "rate_limit")
    c.rate_limit = num(1000000000);
  else if (key == "token_cache_size")
    c.token_cache_size = num(100000000);
  else if (key == "jwks_refresh")
    c.jwks_refresh = seconds();
  else if (key == "session_ttl")
    c.session_ttl = seconds();
  else if (key == "session_idle_ttl")
    c.session_idle_ttl = seconds();
  else if (key == "signup_max_per_ip")
    c.signup_max_per_ip = static_cast<int>(num(kMaxCount));
  else if (key == "tls_cert")
    c.tls_cert = v;
  else if (key == "tls_key")
    c.tls_key = v;
  else if (key == "insecure_http")
    c.insecure_http = parse_bool(source, v);
  else if (key == "http_redirect_listen")
    c.http_redirect_listen = v;
  else if (key == "admin_listen")
    c.admin_listen = v;
  else if (key == "trusted_proxies")
    c.trusted_proxies = v;
  else if (key == "forwarded_header")
    c.forwarded_header = v;
  else
    throw std::runtime_error("unknown setting '" + key + "' in " + source);
}

constexpr const char* kKeys[] = {"listen",
                                 "issuer",
                                 "audience",
                                 "database",
                                 "master_key_file",
                                 "access_token_ttl",
                                 "refresh_token_ttl",
                                 "refresh_idle_ttl",
                                 "refresh_grace",
                                 "code_ttl",
                                 "threads",
                                 "store_threads",
                                 "commit_threads",
                                 "login_max_failures",
                                 "max_body_bytes",
                                 "max_header_bytes",
                                 "max_connections",
                                 "access_log",
                                 "roles",
                                 "music_database",
                                 "catalog_scale",
                                 "clock_skew",
                                 "rate_limit",
                                 "token_cache_size",
                                 "jwks_refresh",
                                 "session_ttl",
                                 "session_idle_ttl",
                                 "signup_max_per_ip",
                                 "tls_cert",
                                 "tls_key",
                                 "insecure_http",
                                 "http_redirect_listen",
                                 "admin_listen",
                                 "trusted_proxies",
                                 "forwarded_header"};

std::optional<std::string> decode_master_key(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\r')) t.pop_back();
  if (t.size() == 64 && t.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    std::string out(32, '\0');
    for (size_t i = 0; i < 32; ++i)
      out[i] = static_cast<char>(std::stoi(t.substr(2 * i, 2), nullptr, 16));
    return out;
  }
  auto raw = base64url_decode(t);
  if (raw && raw->size() == 32) return raw;
  return std::nullopt;
}

}  // namespace

Config Config::load(const std::optional<std::string>& toml_file) {
  Config c;
  if (toml_file) {
    toml::table table;
    try {
      table = toml::parse_file(*toml_file);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error("cannot read config " + *toml_file + ": " +
                               std::string(e.description()));
    }
    for (auto&& [k, node] : table) {
      std::string key(k.str());
      std::string value;
      if (auto s = node.value<std::string>())
        value = *s;
      else if (auto i = node.value<int64_t>())
        value = std::to_string(*i);
      else if (auto b = node.value<bool>())
        value = *b ? "true" : "false";
      else if (auto d = node.value<double>())
        value = std::to_string(*d);
      else
        throw std::runtime_error("setting '" + key + "' in " + *toml_file +
                                 " has an unsupported type");
      if (key == "master_key")
        throw std::runtime_error(
            "master_key belongs in STAGEPASS_MASTER_KEY or a key file, not the config file");
      apply(c, key, value, *toml_file);
    }
  }
  for (const char* key : kKeys) {
    std::string env = "STAGEPASS_";
    for (const char* p = key; *p; ++p) env += static_cast<char>(std::toupper(*p));
    if (const char* v = std::getenv(env.c_str())) apply(c, key, v, env);
  }
  if (const char* v = std::getenv("STAGEPASS_MASTER_KEY")) c.master_key = Secret(v);
  while (!c.issuer.empty() && c.issuer.back() == '/') c.issuer.pop_back();
  if (!c.issuer.starts_with("http://") && !c.issuer.starts_with("https://")) {
    throw std::runtime_error("STAGEPASS_ISSUER must be an http(s) URL, got '" + c.issuer + "'");
  }
  if (c.database.starts_with("postgres")) {
    throw std::runtime_error("PostgreSQL is not supported by this build yet; use a SQLite path");
  }
  if (c.roles != "all" && c.roles != "accounts" && c.roles != "api") {
    throw std::runtime_error("STAGEPASS_ROLES must be all, accounts or api, got '" + c.roles + "'");
  }
  if (c.session_ttl <= 0) throw std::runtime_error("STAGEPASS_SESSION_TTL must be positive");
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    throw std::runtime_error("STAGEPASS_TLS_CERT and STAGEPASS_TLS_KEY must be set together");
  }
  if (c.tls() && !c.issuer.starts_with("https://")) {
    throw std::runtime_error("with TLS on, STAGEPASS_ISSUER must be an https:// URL, got '" +
                             c.issuer + "'");
  }
  if (c.music_database.empty()) {
    auto dir = std::filesystem::path(c.database).parent_path();
    c.music_database = (dir.empty() ? std::filesystem::path(".") : dir).append("music.db").string();
  }
  if (c.master_key_file.empty()) {
    auto dir = std::filesystem::path(c.database).parent_path();
    c.master_key_file =
        (dir.empty() ? std::filesystem::path(".") : dir).append("master.key").string();
  }
  return c;
}

Secret Config::resolve_master_key() const {
  if (!master_key.empty()) {
    auto k = decode_master_key(std::string(master_key.reveal()));
    if (!k)
      throw std::runtime_error(
          "STAGEPASS_MASTER_KEY must be 32 bytes as 64 hex digits or base64url");
    return Secret(*k);
  }
  auto dir = std::filesystem::path(master_key_file).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  int fd = ::open(master_key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    SystemRandom rng;
    std::string text = base64url_encode(rng.bytes(32)) + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write master key file " + master_key_file);
  } else if (errno != EEXIST) {
    throw std::runtime_error("cannot create master key file " + master_key_file);
  }
  std::ifstream in(master_key_file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto k = decode_master_key(ss.str());
  if (!k)
    throw std::runtime_error("master key file " + master_key_file + " does not hold a 32-byte key");
  return Secret(*k);
}

}  // namespace stagepass

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

#include "app/config_table.hpp"
#include "core/base64url.hpp"
#include "core/random.hpp"

namespace stagepass {
namespace {

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

Config::Config() {
  for (const Setting& s : settings()) {
    if (!s.default_value.empty()) apply_setting(*this, s, std::string(s.default_value), "default");
  }
}

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
      const Setting* s = find_setting(key);
      if (!s) throw std::runtime_error("unknown setting '" + key + "' in " + *toml_file);
      if (!s->not_in_file.empty()) throw std::runtime_error(std::string(s->not_in_file));
      apply_setting(c, *s, value, *toml_file);
    }
  }
  for (const Setting& s : settings()) {
    const std::string env(s.env);
    if (const char* v = std::getenv(env.c_str())) apply_setting(c, s, v, env);
  }
  while (!c.issuer.empty() && c.issuer.back() == '/') c.issuer.pop_back();
  if (!c.issuer.starts_with("http://") && !c.issuer.starts_with("https://")) {
    throw std::runtime_error("STAGEPASS_ISSUER must be an http(s) URL, got '" + c.issuer + "'");
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
  // issue15:keys. A scheduled rotation publishes the next key 2 max-ages ahead (key_schedule.hpp).
  if (c.key_rotation > 0 && c.key_rotation <= 2 * c.jwks_max_age + 1) {
    throw std::runtime_error("STAGEPASS_KEY_ROTATION (" + std::to_string(c.key_rotation) +
                             " s) must be longer than the publish-ahead of a scheduled rotation, "
                             "twice STAGEPASS_JWKS_MAX_AGE plus 1 s (" +
                             std::to_string(2 * c.jwks_max_age + 1) + " s)");
  }
  // issue17:prune. Settings that would quietly switch off what pruning must keep: replay
  // detection on a node whose clock is behind, the security log. (The reuse window's floor,
  // 3600 s, is its bound in the settings table.)
  if (c.prune_margin < c.clock_skew) {
    throw std::runtime_error("STAGEPASS_PRUNE_MARGIN must be at least STAGEPASS_CLOCK_SKEW");
  }
  if (c.audit_retention != 0 && c.audit_retention < 86400) {
    throw std::runtime_error(
        "STAGEPASS_AUDIT_RETENTION must be 0 (keep every event) or at least "
        "86400 s");
  }
  if (!c.database_replica.empty() &&
      (!is_postgresql_url(c.database) || !is_postgresql_url(c.database_replica))) {
    throw std::runtime_error(
        "STAGEPASS_DATABASE_REPLICA needs STAGEPASS_DATABASE and itself to be postgresql:// URLs");
  }
  // Beside the SQLite database; with PostgreSQL (a URL, no directory) under ./var.
  const std::filesystem::path dir = is_postgresql_url(c.database)
                                        ? std::filesystem::path("./var")
                                        : std::filesystem::path(c.database).parent_path();
  const std::filesystem::path base = dir.empty() ? std::filesystem::path(".") : dir;
  if (c.music_database.empty()) c.music_database = (base / "music.db").string();
  if (c.master_key_file.empty()) {
    // Every node of one PostgreSQL database unseals the same signing keys: a key file each
    // node would invent for itself would seal keys the others cannot read.
    // (Api-only nodes never open the signing keys: they need, and must be given, no key.)
    if (is_postgresql_url(c.database) && c.master_key.empty() && c.serves_accounts()) {
      throw std::runtime_error(
          "with a PostgreSQL database every node needs the same master key: set "
          "STAGEPASS_MASTER_KEY or STAGEPASS_MASTER_KEY_FILE");
    }
    c.master_key_file = (base / "master.key").string();
  }
  return c;
}

bool is_postgresql_url(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

Secret Config::resolve_master_key() const {
  if (!master_key.empty()) {
    auto k = decode_master_key(std::string(master_key.reveal()));
    if (!k)
      throw std::runtime_error(
          "STAGEPASS_MASTER_KEY must be 32 bytes as 64 hex digits or base64url");
    return Secret(*k);
  }
  // With PostgreSQL every node must unseal the same signing keys: a key file is never made up
  // here (a mistyped path would seal the first keys under a key no other node has).
  if (is_postgresql_url(database) && !std::filesystem::exists(master_key_file)) {
    throw std::runtime_error("master key file " + master_key_file +
                             " does not exist; with a PostgreSQL database every node needs the "
                             "same key, so it is not created: make it once (openssl rand -hex 32 "
                             "> FILE, mode 0600) and copy it to every node, or set "
                             "STAGEPASS_MASTER_KEY");
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

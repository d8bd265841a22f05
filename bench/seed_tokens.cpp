// stagepass-bench-seed: fills a Stagepass database with the secrets a load test consumes, and
// writes the raw values (which the database never holds: it stores SHA-256 hashes) one per
// line, so wrk can present each one once.
//
//   refresh tokens      each the first of a new chain (family), as
//                       TokenIssuer::new_refresh_token
//   authorization codes new_opaque_token("spc_"), as AuthorizeFlow::approve, with
//                       an S256 challenge of one PKCE verifier (or none: --no-pkce)
//   access tokens       EdDSA JWTs signed by the server's own keyring (opened with the
//                       master key), with the claims TokenIssuer::access_token puts in
//
// Every kind gets its own grants, one per --per-grant values, and each grant its own user
// (the store keeps at most one active grant per user and client), with a Web API profile
// in the music database so GET /v1/me answers 200. Seeded users share one Argon2id hash
// of --password, so they can also sign in (the login-storm scenario).
//
// Settings come from the same sources as the server (--config FILE, then the STAGEPASS_*
// variables: STAGEPASS_DATABASE, STAGEPASS_MUSIC_DATABASE, STAGEPASS_MASTER_KEY(_FILE),
// STAGEPASS_ISSUER, STAGEPASS_AUDIENCE, the TTLs); --database overrides STAGEPASS_DATABASE.
// Opening the accounts database goes through the server's store factory (open_accounts_store:
// SQLite or a postgresql:// URL; migrations, the keyring) and the music database through
// SqliteMusicStore; the rows are then inserted with the store's own column layout in batched
// transactions (--batch rows per transaction; the store's own methods commit one row each):
// on SQLite BEGIN IMMEDIATE ... COMMIT, on PostgreSQL multi-row INSERTs of the columns
// pg_schema.cpp defines. A sample of every kind is read back through the store and the token
// verifier. It may run while the servers run (SQLite: WAL, the writer waits up to 5 s for
// the lock; PostgreSQL: new rows only, no lock beyond their own keys).
//
// On success prints one line of JSON on stdout: counts, client, redirect URI, scope, PKCE
// verifier, seconds. Exit status 1 on any failure.
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "app/config.hpp"
#include "app/store_factory.hpp"
#include "core/base64url.hpp"
#include "core/random.hpp"
#include "crypto/crypto.hpp"
#include "music/sqlite/sqlite_music_store.hpp"
#include "seed_writers.hpp"
#include "tokens/access_token.hpp"
#include "tokens/keyring.hpp"
#include "tokens/opaque_token.hpp"
#include "tokens/signing_keys.hpp"

using namespace stagepass;
namespace json = boost::json;

namespace {

struct Options {
  std::optional<std::string> config_file;
  std::optional<std::string> database;
  std::string client_id;
  int64_t refresh = 0, codes = 0, access = 0;
  std::string refresh_out, codes_out, access_out, users_out;
  int64_t per_grant = 1;
  std::string scope = "user-read-private user-read-email";
  std::string redirect_uri;  // default: the client's first registered one
  std::string pkce_verifier;
  bool no_pkce = false;
  std::optional<int64_t> code_ttl;
  std::string password = "bench-password-1";
  int64_t batch = 10000;
  int64_t cache_mib = 256;
  bool no_profiles = false;
  int threads = 0;
};

// The OS CSPRNG read 64 KiB at a time: ids and secrets by the hundred thousand, without a
// getrandom() call for each.
class BufferedRandom final : public Random {
 public:
  void fill(void* out, size_t n) override {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      if (pos_ == buf_.size()) {
        os_.fill(buf_.data(), buf_.size());
        pos_ = 0;
      }
      size_t take = std::min(n, buf_.size() - pos_);
      std::memcpy(p, buf_.data() + pos_, take);
      // Each byte is handed out once.
      sodium_memzero(buf_.data() + pos_, take);
      pos_ += take;
      p += take;
      n -= take;
    }
  }

 private:
  SystemRandom os_;
  std::array<unsigned char, 65536> buf_{};
  size_t pos_ = buf_.size();
};

struct SeededGrant {
  std::string id, user_id;
};

class Seeder {
 public:
  Seeder(const Options& o, Random& random, int64_t now, bench::Writer& w)
      : o_(o), random_(random), now_(now), w_(w) {
    password_hash_ = crypto::password_hash(o.password);
  }

  // A new user (and profile) with one active grant of the bench client.
  SeededGrant new_grant(std::ofstream* users_out) {
    User u;
    u.id = random_.id22();
    u.email = "seed-" + lower_id(u.id) + "@bench.invalid";
    u.display_name = "Seeded " + u.id.substr(0, 6);
    u.password_hash = password_hash_;
    u.created_at = now_;
    w_.user(u);
    Grant g{random_.id22(), u.id, o_.client_id, scope(), now_, std::nullopt, std::nullopt};
    w_.grant(g);
    ++users_;
    if (users_out) *users_out << u.email << '\n';
    return {g.id, u.id};
  }

  ScopeSet scope() const { return ScopeSet::parse(o_.scope); }
  int64_t users() const { return users_; }
  const std::string& password_hash() const { return password_hash_; }

 private:
  // Emails compare case-insensitively; keep them distinct whatever the case of the id.
  static std::string lower_id(const std::string& id) {
    std::string out;
    for (char c : id) {
      if (c >= 'A' && c <= 'Z') {
        out += '_';
        out += static_cast<char>(c - 'A' + 'a');
      } else {
        out += c;
      }
    }
    return out;
  }

  const Options& o_;
  Random& random_;
  int64_t now_;
  bench::Writer& w_;
  std::string password_hash_;
  int64_t users_ = 0;
};

// The database as the report may print it: a URL keeps its user name, never a password
// (which belongs in PGPASSFILE, but may have been put in the URL).
std::string printable_database(const std::string& database) {
  if (!is_postgresql_url(database)) return database;
  const size_t scheme = database.find("://") + 3;
  const size_t at = database.find('@', scheme);
  if (at == std::string::npos) return database;
  const size_t colon = database.find(':', scheme);
  if (colon == std::string::npos || colon > at) return database;
  return database.substr(0, colon) + database.substr(at);
}

std::ofstream open_out(const std::string& path) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path);
  return f;
}

// Signs claims[i] into out[i] over `threads` threads (Ed25519 signing is the slow part).
void mint_all(const Keyring& keys, const std::vector<AccessClaims>& claims,
              std::vector<std::string>& out, int threads) {
  out.resize(claims.size());
  threads = std::max(1, std::min<int>(threads, static_cast<int>(claims.size() / 1000) + 1));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = t; i < claims.size(); i += threads)
        out[i] = mint_access_token(keys, claims[i]);
    });
  }
  for (auto& th : pool) th.join();
}

int run(Options o) {
  const auto started = std::chrono::steady_clock::now();
  if (o.database) setenv("STAGEPASS_DATABASE", o.database->c_str(), 1);
  Config cfg = Config::load(o.config_file);
  if (o.per_grant < 1) throw std::runtime_error("--per-grant must be at least 1");
  if (o.batch < 1) throw std::runtime_error("--batch must be at least 1");
  if (o.cache_mib < 1) throw std::runtime_error("--cache-mib must be at least 1");
  if (o.refresh < 0 || o.codes < 0 || o.access < 0) throw std::runtime_error("negative count");

  BufferedRandom random;
  SystemClock clock;
  const int64_t now = clock.now();
  const int64_t code_ttl = o.code_ttl.value_or(cfg.code_ttl);

  // Opening the stores applies the migrations (a fresh database gets the full schema).
  OpenedStore opened = open_accounts_store(cfg, 1);
  Store& store = *opened.store;
  if (!o.no_profiles) {
    music::SqliteMusicStore music(cfg.music_database, 1);
  }

  auto client = store.find_client(o.client_id);
  if (!client) {
    throw std::runtime_error("client " + o.client_id + ": " + client.error().message +
                             " (create it with `stagepass admin client create`)");
  }
  const ScopeSet scope = ScopeSet::parse(o.scope);
  if (auto unknown = scope.first_unknown()) throw std::runtime_error("unknown scope " + *unknown);
  if (!scope.subset_of(client->allowed_scopes)) {
    throw std::runtime_error("scope '" + o.scope + "' is not allowed for client " + o.client_id);
  }
  if (o.codes) {
    if (o.redirect_uri.empty()) {
      if (client->redirect_uris.empty()) throw std::runtime_error("client has no redirect URI");
      o.redirect_uri = client->redirect_uris.front();
    }
    if (client->is_public && o.no_pkce) {
      throw std::runtime_error("a public client's codes need PKCE: drop --no-pkce");
    }
    if (!o.no_pkce && o.pkce_verifier.empty()) o.pkce_verifier = base64url_encode(random.bytes(48));
    if (!o.no_pkce && (o.pkce_verifier.size() < 43 || o.pkce_verifier.size() > 128)) {
      throw std::runtime_error("--pkce-verifier must be 43 to 128 characters (RFC 7636 §4.1)");
    }
  }
  std::shared_ptr<const Keyring> keys;
  if (o.access) {
    // The server's signing keys, opened as the server opens them (a first key is stored if
    // the server never ran on this database). No scheduled rotation here.
    keys = SigningKeys(store, cfg.resolve_master_key(), random, clock, {}).current();
  }
  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  std::optional<std::ofstream> users_out;
  if (!o.users_out.empty()) users_out = open_out(o.users_out);
  auto writer =
      bench::make_writer(cfg.database, cfg.music_database, o.batch, !o.no_profiles, o.cache_mib);
  bench::Writer& w = *writer;
  Seeder seeder(o, random, now, w);
  auto* users_stream = users_out ? &*users_out : nullptr;

  std::string sample_refresh, sample_code, sample_access;
  int64_t grants = 0;

  // Refresh tokens, as TokenIssuer::new_refresh_token makes them: each starts its chain.
  if (o.refresh) {
    std::optional<std::ofstream> out;
    if (!o.refresh_out.empty()) out = open_out(o.refresh_out);
    SeededGrant g;
    for (int64_t i = 0; i < o.refresh; ++i) {
      if (i % o.per_grant == 0) {
        g = seeder.new_grant(users_stream);
        ++grants;
      }
      std::string value = new_family_refresh_token(random, new_refresh_family(random, clock), 0);
      RefreshToken t;
      t.hash = refresh_token_key(value);
      t.grant_id = g.id;
      t.client_id = o.client_id;
      t.user_id = g.user_id;
      t.scope = scope;
      t.created_at = now;
      t.expires_at = now + cfg.refresh_token_ttl;  // grant created now
      t.idle_expires_at = std::min(t.expires_at, now + cfg.refresh_idle_ttl);
      w.refresh(t);
      if (out) *out << value << '\n';
      if (sample_refresh.empty()) sample_refresh = value;
    }
    if (out && !out->flush()) throw std::runtime_error("cannot write " + o.refresh_out);
  }

  // Authorization codes, as AuthorizeFlow::approve stores them.
  if (o.codes) {
    std::optional<std::ofstream> out;
    if (!o.codes_out.empty()) out = open_out(o.codes_out);
    const std::string challenge =
        o.no_pkce ? std::string() : base64url_encode(crypto::sha256(o.pkce_verifier));
    SeededGrant g;
    for (int64_t i = 0; i < o.codes; ++i) {
      if (i % o.per_grant == 0) {
        g = seeder.new_grant(users_stream);
        ++grants;
      }
      std::string value = new_opaque_token(random, clock, kCodePrefix);
      w.code({code_key(value), g.id, o.client_id, g.user_id, o.redirect_uri, scope, challenge,
              now + code_ttl, std::nullopt});
      if (out) *out << value << '\n';
      if (sample_code.empty()) sample_code = value;
    }
    if (out && !out->flush()) throw std::runtime_error("cannot write " + o.codes_out);
  }

  // Access tokens, with TokenIssuer::access_token's claims.
  if (o.access) {
    std::vector<AccessClaims> claims;
    claims.reserve(static_cast<size_t>(o.access));
    SeededGrant g;
    for (int64_t i = 0; i < o.access; ++i) {
      if (i % o.per_grant == 0) {
        g = seeder.new_grant(users_stream);
        ++grants;
      }
      claims.push_back({cfg.issuer, g.user_id, cfg.effective_audience(), o.client_id, scope.str(),
                        now, now + cfg.access_token_ttl, random.id22(), g.id, client->rate_limit});
    }
    std::vector<std::string> tokens;
    mint_all(*keys, claims, tokens, threads);
    if (!o.access_out.empty()) {
      auto out = open_out(o.access_out);
      for (const auto& t : tokens) out << t << '\n';
      if (!out.flush()) throw std::runtime_error("cannot write " + o.access_out);
    }
    sample_access = tokens.front();
  }
  w.commit();
  if (users_out && !users_out->flush()) throw std::runtime_error("cannot write " + o.users_out);

  // Read one of each kind back the way the server will.
  if (!sample_refresh.empty()) {
    auto t = store.find_refresh_token(refresh_token_key(sample_refresh));
    if (!t || t->client_id != o.client_id || t->revoked || t->rotated_at) {
      throw std::runtime_error("seeded refresh token does not read back through the store");
    }
    auto gr = store.find_grant(t->grant_id);
    if (!gr || gr->revoked_at) throw std::runtime_error("seeded grant does not read back");
  }
  if (!sample_access.empty()) {
    auto c = verify_access_token(*keys, sample_access,
                                 {cfg.issuer, cfg.effective_audience(), clock.now(), 0});
    if (!c) throw std::runtime_error("seeded access token does not verify: " + c.error().message);
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json::object report{{"database", printable_database(cfg.database)},
                      {"music_database", o.no_profiles ? std::string() : cfg.music_database},
                      {"client_id", o.client_id},
                      {"users", seeder.users()},
                      {"grants", grants},
                      {"refresh_tokens", o.refresh},
                      {"codes", o.codes},
                      {"access_tokens", o.access},
                      {"scope", scope.str()},
                      {"seconds", seconds}};
  if (o.codes) {
    report["redirect_uri"] = o.redirect_uri;
    report["pkce_verifier"] = o.pkce_verifier;  // empty with --no-pkce
    report["code_expires_at"] = now + code_ttl;
  }
  if (o.access) report["access_expires_at"] = now + cfg.access_token_ttl;
  if (seeder.users()) report["password"] = o.password;
  std::cout << json::serialize(report) << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "stagepass-bench-seed: seed refresh tokens, authorization codes and access tokens into a "
      "Stagepass database and write the raw values one per line (see bench/README.md)"};
  Options o;
  app.add_option("--config", o.config_file, "TOML configuration file (STAGEPASS_* variables win)");
  app.add_option("--database", o.database,
                 "SQLite path or postgresql:// URL (overrides STAGEPASS_DATABASE)");
  app.add_option("--client-id", o.client_id, "the (existing) client the values are issued to")
      ->required();
  app.add_option("--refresh", o.refresh, "refresh tokens to create");
  app.add_option("--refresh-out", o.refresh_out, "file for the raw refresh tokens");
  app.add_option("--codes", o.codes, "authorization codes to create");
  app.add_option("--codes-out", o.codes_out, "file for the raw codes");
  app.add_option("--access", o.access, "access tokens (JWTs) to mint");
  app.add_option("--access-out", o.access_out, "file for the access tokens");
  app.add_option("--users-out", o.users_out, "file for the emails of the users created");
  app.add_option("--per-grant", o.per_grant,
                 "values per grant (and user); default 1: every value has its own user");
  app.add_option("--scope", o.scope, "scope of the grants and values");
  app.add_option("--redirect-uri", o.redirect_uri,
                 "codes' redirect_uri (default: the client's first)");
  app.add_option("--pkce-verifier", o.pkce_verifier,
                 "PKCE verifier whose S256 challenge the codes carry (default: random, printed)");
  app.add_flag("--no-pkce", o.no_pkce, "codes without a challenge (confidential clients only)");
  app.add_option("--code-ttl", o.code_ttl, "code lifetime, seconds (default STAGEPASS_CODE_TTL)");
  app.add_option("--password", o.password, "password of every seeded user (one Argon2id hash)");
  app.add_option("--batch", o.batch, "rows per transaction");
  app.add_option("--cache-mib", o.cache_mib,
                 "SQLite page cache of the accounts database, MiB (default 256; more for the "
                 "millions of rows of a growth run)");
  app.add_flag("--no-profiles", o.no_profiles, "do not write Web API profiles (music database)");
  app.add_option("--threads", o.threads, "signing threads for access tokens (default: cores)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(std::move(o));
  } catch (const std::exception& e) {
    std::cerr << "stagepass-bench-seed: " << e.what() << "\n";
    return 1;
  }
}

// SqliteMusicStore: opening, shared loaders, profiles and the catalog bulk load.
#include "music/sqlite/sqlite_music_store.hpp"

#include <filesystem>

#include "music/sqlite/music_schema.hpp"
#include "music/sqlite/sqlite_music_internal.hpp"

namespace stagepass::music {
using namespace internal;

SqliteMusicStore::SqliteMusicStore(const std::string& path, int readers)
    : pool_(path, readers, migrate_music, {}, "sp-music-writer") {}

SqliteMusicStore::~SqliteMusicStore() = default;

bool SqliteMusicStore::ping() {
  auto r = read([](Connection& db) -> Result<bool> { return db.prepare("SELECT 1").step(); });
  return r.ok() && *r;
}

// ---- shared loaders

namespace internal {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::optional<Artist> load_artist(Connection& db, const std::string& id) {
  auto s = db.prepare("SELECT name, genres, popularity, followers FROM artists WHERE id = ?");
  if (!s.bind(1, id).step()) return std::nullopt;
  return Artist{id, s.text(0), split(s.text(1), ','), static_cast<int>(s.i64(2)), s.i64(3)};
}

namespace {
std::vector<ArtistRef> album_artists(Connection& db, const std::string& album_id) {
  auto s = db.prepare(
      "SELECT a.id, a.name FROM album_artists x JOIN artists a ON a.id = x.artist_id "
      "WHERE x.album_id = ? ORDER BY x.position");
  s.bind(1, album_id);
  std::vector<ArtistRef> out;
  while (s.step()) out.push_back({s.text(0), s.text(1)});
  return out;
}
std::vector<ArtistRef> track_artists(Connection& db, const std::string& track_id) {
  auto s = db.prepare(
      "SELECT a.id, a.name FROM track_artists x JOIN artists a ON a.id = x.artist_id "
      "WHERE x.track_id = ? ORDER BY x.position");
  s.bind(1, track_id);
  std::vector<ArtistRef> out;
  while (s.step()) out.push_back({s.text(0), s.text(1)});
  return out;
}
}  // namespace

std::optional<Album> load_album(Connection& db, const std::string& id) {
  Album a;
  {
    auto s = db.prepare(
        "SELECT name, album_type, release_date, label, popularity, total_tracks FROM albums "
        "WHERE id = ?");
    if (!s.bind(1, id).step()) return std::nullopt;
    a = Album{id,
              s.text(0),
              s.text(1),
              s.text(2),
              s.text(3),
              static_cast<int>(s.i64(4)),
              static_cast<int>(s.i64(5)),
              {}};
  }
  a.artists = album_artists(db, id);
  return a;
}

std::optional<Track> load_track(Connection& db, const std::string& id) {
  Track t;
  std::string album_id;
  {
    auto s = db.prepare(
        "SELECT name, album_id, disc_number, track_number, duration_ms, explicit, popularity "
        "FROM tracks WHERE id = ?");
    if (!s.bind(1, id).step()) return std::nullopt;
    t.id = id;
    t.name = s.text(0);
    album_id = s.text(1);
    t.disc_number = static_cast<int>(s.i64(2));
    t.track_number = static_cast<int>(s.i64(3));
    t.duration_ms = s.i64(4);
    t.explicit_ = s.i64(5) != 0;
    t.popularity = static_cast<int>(s.i64(6));
  }
  if (auto album = load_album(db, album_id)) t.album = std::move(*album);
  t.artists = track_artists(db, id);
  return t;
}

bool track_exists(Connection& db, const std::string& id) {
  return db.prepare("SELECT 1 FROM tracks WHERE id = ?").bind(1, id).step();
}

bool artist_exists(Connection& db, const std::string& id) {
  return db.prepare("SELECT 1 FROM artists WHERE id = ?").bind(1, id).step();
}

void insert_play(Connection& db, const std::string& user_id, const std::string& track_id,
                 int64_t played_at, const std::string& context_uri) {
  db.prepare(
        "INSERT INTO play_history (user_id, track_id, played_at, context_uri) VALUES (?,?,?,?)")
      .bind_all(user_id, track_id, played_at, context_uri)
      .run();
}

}  // namespace internal

// ---- profiles

Status<> SqliteMusicStore::upsert_profile(const Profile& p) {
  auto done = write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO profiles (id, display_name, email, country, product, followers) "
          "VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET display_name = "
          "excluded.display_name, "
          "email = excluded.email, country = excluded.country, product = excluded.product")
        .bind_all(p.id, p.display_name, p.email, p.country, p.product, p.followers)
        .run();
    return Ok{};
  });
  profiles_.erase(p.id);  // after the write: readers that began earlier will not cache
  return done;
}

Result<Profile> SqliteMusicStore::find_profile(const std::string& user_id) {
  const uint64_t version = profiles_.version();
  return read([&](Connection& db) -> Result<Profile> {
    auto s = db.prepare(
        "SELECT display_name, email, country, product, followers FROM profiles WHERE id = ?");
    if (!s.bind(1, user_id).step()) return fail(not_found("user"));
    Profile p{user_id, s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4)};
    profiles_.put(p.id, std::make_shared<const Profile>(p), version);
    return p;
  });
}

std::shared_ptr<const Profile> SqliteMusicStore::cached_profile(const std::string& user_id) {
  return profiles_.get(user_id).value_or(nullptr);
}

// ---- catalog bulk load

namespace {

class SqliteCatalogSink final : public CatalogSink {
 public:
  explicit SqliteCatalogSink(Connection& db) : db_(db) {}
  void add_artist(const Artist& a) override {
    db_.prepare("INSERT INTO artists (id, name, genres, popularity, followers) VALUES (?,?,?,?,?)")
        .bind_all(a.id, a.name, joined(a.genres, ','), int64_t{a.popularity}, a.followers)
        .run();
  }
  void add_album(const Album& a) override {
    db_.prepare(
           "INSERT INTO albums (id, name, album_type, release_date, label, popularity, "
           "total_tracks) VALUES (?,?,?,?,?,?,?)")
        .bind_all(a.id, a.name, a.album_type, a.release_date, a.label, int64_t{a.popularity},
                  int64_t{a.total_tracks})
        .run();
    for (size_t i = 0; i < a.artists.size(); ++i) {
      db_.prepare("INSERT INTO album_artists (album_id, position, artist_id) VALUES (?,?,?)")
          .bind_all(a.id, static_cast<int64_t>(i), a.artists[i].id)
          .run();
    }
  }
  void add_track(const Track& t) override {
    db_.prepare(
           "INSERT INTO tracks (id, name, album_id, disc_number, track_number, duration_ms, "
           "explicit, popularity) VALUES (?,?,?,?,?,?,?,?)")
        .bind_all(t.id, t.name, t.album.id, int64_t{t.disc_number}, int64_t{t.track_number},
                  t.duration_ms, int64_t{t.explicit_}, int64_t{t.popularity})
        .run();
    for (size_t i = 0; i < t.artists.size(); ++i) {
      db_.prepare("INSERT INTO track_artists (track_id, position, artist_id) VALUES (?,?,?)")
          .bind_all(t.id, static_cast<int64_t>(i), t.artists[i].id)
          .run();
    }
  }

 private:
  Connection& db_;
};

}  // namespace

Result<CatalogCounts> SqliteMusicStore::catalog_counts() {
  return read([&](Connection& db) -> Result<CatalogCounts> {
    auto s = db.prepare(
        "SELECT (SELECT count(*) FROM artists), (SELECT count(*) FROM albums), "
        "(SELECT count(*) FROM tracks)");
    s.step();
    return CatalogCounts{s.i64(0), s.i64(1), s.i64(2)};
  });
}

Status<> SqliteMusicStore::load_catalog(const std::function<void(CatalogSink&)>& fill) {
  auto loaded = write([&](Connection& db) -> Status<> {
    // A cache big enough that the one transaction never spills pages mid-way; the writer's
    // own size (ConnectionPool) restored after.
    std::string before;
    {
      auto current = db.prepare("PRAGMA cache_size");
      current.step();
      before = "PRAGMA cache_size=" + std::to_string(current.i64(0));
    }
    db.exec("PRAGMA cache_size=-262144");
    struct RestoreCache {
      Connection& db;
      const std::string& sql;
      ~RestoreCache() {
        try {
          db.exec(sql.c_str());
        } catch (...) {
        }
      }
    } restore{db, before};
    Transaction tx(db);
    SqliteCatalogSink sink(db);
    fill(sink);
    // The search index is built once, after the rows (far faster than row by row).
    db.exec(
        "INSERT INTO artist_fts (rowid, name) SELECT rowid, name FROM artists;"
        "INSERT INTO album_fts (rowid, name, artists) SELECT al.rowid, al.name, "
        "  (SELECT group_concat(a.name, ' ') FROM album_artists x JOIN artists a "
        "   ON a.id = x.artist_id WHERE x.album_id = al.id) FROM albums al;"
        "INSERT INTO track_fts (rowid, name, artists) SELECT t.rowid, t.name, "
        "  (SELECT group_concat(a.name, ' ') FROM track_artists x JOIN artists a "
        "   ON a.id = x.artist_id WHERE x.track_id = t.id) FROM tracks t;");
    tx.commit();
    db.exec("PRAGMA optimize");
    return Ok{};
  });
  // After write() returned, i.e. after the group's COMMIT (tx.commit() above only releases a
  // savepoint): nothing cached before the load may answer after it. A read racing this
  // either stored under the old generation (dropped here) or read the new catalog.
  catalog_cache_.clear();
  {
    std::lock_guard lk(postings_mu_);
    postings_.clear();
  }
  return loaded;
}

}  // namespace stagepass::music

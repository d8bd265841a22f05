// SqliteMusicStore: saved tracks, followed artists, play history and top items.
#include <algorithm>
#include <cstdint>

#include "music/sqlite/sqlite_music_internal.hpp"

namespace stagepass::music {
using namespace internal;

namespace {

// Start of a Spotify time range ending at `now` (ms).
int64_t range_start(const std::string& time_range, int64_t now) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  if (time_range == "short_term") return now - 28 * kDay;
  if (time_range == "long_term") return 0;
  return now - 183 * kDay;  // medium_term, Spotify's default
}

template <class F>
std::vector<bool> contains_each(Connection& db, const std::vector<std::string>& ids, F probe) {
  std::vector<bool> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(probe(db, id));
  return out;
}

}  // namespace

// ---- saved tracks

Status<> SqliteMusicStore::save_tracks(const std::string& user_id,
                                       const std::vector<std::string>& ids, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    for (const auto& id : ids) {
      if (!track_exists(db, id)) return fail(not_found("track " + id));
      db.prepare("INSERT OR IGNORE INTO saved_tracks (user_id, track_id, added_at) VALUES (?,?,?)")
          .bind_all(user_id, id, now)
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

Status<> SqliteMusicStore::remove_saved_tracks(const std::string& user_id,
                                               const std::vector<std::string>& ids) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    for (const auto& id : ids) {
      db.prepare("DELETE FROM saved_tracks WHERE user_id = ? AND track_id = ?")
          .bind_all(user_id, id)
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<bool>> SqliteMusicStore::saved_tracks_contain(
    const std::string& user_id, const std::vector<std::string>& ids) {
  return read([&](Connection& db) -> Result<std::vector<bool>> {
    return contains_each(db, ids, [&](Connection& c, const std::string& id) {
      return c.prepare("SELECT 1 FROM saved_tracks WHERE user_id = ? AND track_id = ?")
          .bind_all(user_id, id)
          .step();
    });
  });
}

Result<Page<SavedTrack>> SqliteMusicStore::saved_tracks(const std::string& user_id, int limit,
                                                        int64_t offset) {
  return read([&](Connection& db) -> Result<Page<SavedTrack>> {
    Page<SavedTrack> page;
    {
      auto s = db.prepare("SELECT count(*) FROM saved_tracks WHERE user_id = ?");
      s.bind(1, user_id).step();
      page.total = s.i64(0);
    }
    std::vector<std::pair<std::string, int64_t>> rows;
    {
      auto s = db.prepare(
          "SELECT track_id, added_at FROM saved_tracks WHERE user_id = ? "
          "ORDER BY seq DESC LIMIT ? OFFSET ?");
      s.bind_all(user_id, int64_t{limit}, offset);
      while (s.step()) rows.emplace_back(s.text(0), s.i64(1));
    }
    for (auto& [id, added_at] : rows) {
      if (auto t = load_track(db, id)) page.items.push_back({added_at, std::move(*t)});
    }
    return page;
  });
}

// ---- followed artists

Status<> SqliteMusicStore::follow_artists(const std::string& user_id,
                                          const std::vector<std::string>& ids, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    for (const auto& id : ids) {
      if (!artist_exists(db, id)) return fail(not_found("artist " + id));
      db.prepare(
            "INSERT OR IGNORE INTO followed_artists (user_id, artist_id, followed_at) "
            "VALUES (?,?,?)")
          .bind_all(user_id, id, now)
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

Status<> SqliteMusicStore::unfollow_artists(const std::string& user_id,
                                            const std::vector<std::string>& ids) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    for (const auto& id : ids) {
      db.prepare("DELETE FROM followed_artists WHERE user_id = ? AND artist_id = ?")
          .bind_all(user_id, id)
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<bool>> SqliteMusicStore::follows_artists(const std::string& user_id,
                                                            const std::vector<std::string>& ids) {
  return read([&](Connection& db) -> Result<std::vector<bool>> {
    return contains_each(db, ids, [&](Connection& c, const std::string& id) {
      return c.prepare("SELECT 1 FROM followed_artists WHERE user_id = ? AND artist_id = ?")
          .bind_all(user_id, id)
          .step();
    });
  });
}

Result<CursorPage<Artist>> SqliteMusicStore::followed_artists(const std::string& user_id,
                                                              const std::string& after, int limit) {
  return read([&](Connection& db) -> Result<CursorPage<Artist>> {
    CursorPage<Artist> page;
    {
      auto s = db.prepare("SELECT count(*) FROM followed_artists WHERE user_id = ?");
      s.bind(1, user_id).step();
      page.total = s.i64(0);
    }
    std::vector<std::string> ids;
    {
      auto s = db.prepare(
          "SELECT artist_id FROM followed_artists WHERE user_id = ? AND artist_id > ? "
          "ORDER BY artist_id LIMIT ?");
      s.bind_all(user_id, after, int64_t{limit} + 1);
      while (s.step()) ids.push_back(s.text(0));
    }
    page.has_more = static_cast<int>(ids.size()) > limit;
    if (page.has_more) ids.pop_back();
    for (const auto& id : ids) {
      if (auto a = load_artist(db, id)) page.items.push_back(std::move(*a));
    }
    if (!ids.empty()) page.after = ids.back();
    return page;
  });
}

// ---- history

Status<> SqliteMusicStore::record_play(const std::string& user_id, const std::string& track_id,
                                       int64_t played_at, const std::string& context_uri) {
  return write([&](Connection& db) -> Status<> {
    if (!track_exists(db, track_id)) return fail(not_found("track"));
    insert_play(db, user_id, track_id, played_at, context_uri);
    return Ok{};
  });
}

Result<CursorPage<PlayHistory>> SqliteMusicStore::recently_played(const std::string& user_id,
                                                                  std::optional<int64_t> before,
                                                                  std::optional<int64_t> after,
                                                                  int limit) {
  return read([&](Connection& db) -> Result<CursorPage<PlayHistory>> {
    CursorPage<PlayHistory> page;
    {
      auto s = db.prepare("SELECT count(*) FROM play_history WHERE user_id = ?");
      s.bind(1, user_id).step();
      page.total = s.i64(0);
    }
    struct Row {
      std::string track_id;
      int64_t played_at;
      std::string context;
    };
    std::vector<Row> rows;
    if (after) {  // the oldest plays after `after`, shown newest first
      auto s = db.prepare(
          "SELECT track_id, played_at, context_uri FROM play_history WHERE user_id = ? AND "
          "played_at > ? ORDER BY played_at, seq LIMIT ?");
      s.bind_all(user_id, *after, int64_t{limit});
      while (s.step()) rows.push_back({s.text(0), s.i64(1), s.text(2)});
      std::reverse(rows.begin(), rows.end());
    } else {
      auto s = db.prepare(
          "SELECT track_id, played_at, context_uri FROM play_history WHERE user_id = ? AND "
          "played_at < ? ORDER BY played_at DESC, seq DESC LIMIT ?");
      s.bind_all(user_id, before.value_or(INT64_MAX), int64_t{limit});
      while (s.step()) rows.push_back({s.text(0), s.i64(1), s.text(2)});
    }
    if (!rows.empty()) {
      page.after = std::to_string(rows.front().played_at);
      page.before = std::to_string(rows.back().played_at);
      auto s = db.prepare("SELECT 1 FROM play_history WHERE user_id = ? AND played_at < ?");
      page.has_more = s.bind_all(user_id, rows.back().played_at).step();
    }
    for (auto& r : rows) {
      if (auto t = load_track(db, r.track_id)) {
        page.items.push_back({std::move(*t), r.played_at, r.context});
      }
    }
    return page;
  });
}

// ---- top items: saved tracks and follows weigh more than single plays

Result<Page<Artist>> SqliteMusicStore::top_artists(const std::string& user_id,
                                                   const std::string& time_range, int limit,
                                                   int64_t offset, int64_t now) {
  return read([&](Connection& db) -> Result<Page<Artist>> {
    auto s = db.prepare(
        "SELECT artist_id, count(*) OVER () FROM ("
        " SELECT artist_id, 5 AS w FROM followed_artists WHERE user_id = ?1"
        " UNION ALL SELECT x.artist_id, 2 FROM saved_tracks st JOIN track_artists x"
        "  ON x.track_id = st.track_id WHERE st.user_id = ?1"
        " UNION ALL SELECT x.artist_id, 1 FROM play_history h JOIN track_artists x"
        "  ON x.track_id = h.track_id WHERE h.user_id = ?1 AND h.played_at >= ?2)"
        " GROUP BY artist_id ORDER BY sum(w) DESC, artist_id LIMIT ?3 OFFSET ?4");
    s.bind_all(user_id, range_start(time_range, now), int64_t{limit}, offset);
    std::vector<std::string> ids;
    Page<Artist> page;
    while (s.step()) {
      ids.push_back(s.text(0));
      page.total = s.i64(1);
    }
    for (const auto& id : ids) {
      if (auto a = load_artist(db, id)) page.items.push_back(std::move(*a));
    }
    return page;
  });
}

Result<Page<Track>> SqliteMusicStore::top_tracks(const std::string& user_id,
                                                 const std::string& time_range, int limit,
                                                 int64_t offset, int64_t now) {
  return read([&](Connection& db) -> Result<Page<Track>> {
    auto s = db.prepare(
        "SELECT track_id, count(*) OVER () FROM ("
        " SELECT track_id, 3 AS w FROM saved_tracks WHERE user_id = ?1"
        " UNION ALL SELECT track_id, 2 FROM play_history WHERE user_id = ?1 AND played_at >= ?2)"
        " GROUP BY track_id ORDER BY sum(w) DESC, track_id LIMIT ?3 OFFSET ?4");
    s.bind_all(user_id, range_start(time_range, now), int64_t{limit}, offset);
    std::vector<std::string> ids;
    Page<Track> page;
    while (s.step()) {
      ids.push_back(s.text(0));
      page.total = s.i64(1);
    }
    for (const auto& id : ids) {
      if (auto t = load_track(db, id)) page.items.push_back(std::move(*t));
    }
    return page;
  });
}

}  // namespace stagepass::music

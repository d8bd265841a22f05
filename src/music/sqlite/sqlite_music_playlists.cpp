// SqliteMusicStore: playlists and their items. Every change bumps the playlist's version,
// from which its opaque snapshot id derives. Item changes rewrite the playlist's item rows
// inside one transaction (playlists are small; positions stay dense and exact).
#include <algorithm>

#include "music/ids.hpp"
#include "music/sqlite/sqlite_music_internal.hpp"

namespace stagepass::music {
using namespace internal;

namespace {

struct Row {
  int64_t rowid = 0;
  Playlist p;
  int64_t version = 0;
};

struct ItemRow {
  std::string track_id;
  int64_t added_at;
  std::string added_by;
};

std::optional<Row> load_row(Connection& db, const std::string& id) {
  auto s = db.prepare(
      "SELECT rowid, owner_id, name, description, public, collaborative, version "
      "FROM playlists WHERE id = ?");
  if (!s.bind(1, id).step()) return std::nullopt;
  Row r;
  r.rowid = s.i64(0);
  r.p.id = id;
  r.p.owner_id = s.text(1);
  r.p.name = s.text(2);
  r.p.description = s.text(3);
  r.p.is_public = s.i64(4) != 0;
  r.p.collaborative = s.i64(5) != 0;
  r.version = s.i64(6);
  r.p.snapshot_id = make_snapshot_id(id, r.version);
  return r;
}

// The row with its derived fields: owner's name, number of items, followers.
std::optional<Playlist> load_playlist(Connection& db, const std::string& id) {
  auto row = load_row(db, id);
  if (!row) return std::nullopt;
  Playlist p = std::move(row->p);
  {
    auto s = db.prepare("SELECT display_name FROM profiles WHERE id = ?");
    if (s.bind(1, p.owner_id).step()) p.owner_display_name = s.text(0);
  }
  {
    auto s = db.prepare("SELECT count(*) FROM playlist_items WHERE playlist_id = ?");
    s.bind(1, id).step();
    p.total_tracks = s.i64(0);
  }
  {
    auto s = db.prepare("SELECT count(*) FROM playlist_follows WHERE playlist_id = ?");
    s.bind(1, id).step();
    p.followers = s.i64(0);
  }
  return p;
}

std::vector<ItemRow> read_items(Connection& db, const std::string& id) {
  auto s = db.prepare(
      "SELECT track_id, added_at, added_by FROM playlist_items WHERE playlist_id = ? "
      "ORDER BY position");
  s.bind(1, id);
  std::vector<ItemRow> out;
  while (s.step()) out.push_back({s.text(0), s.i64(1), s.text(2)});
  return out;
}

// Replaces the items and bumps the version; returns the new snapshot id.
std::string write_items(Connection& db, const Row& row, const std::vector<ItemRow>& items) {
  db.prepare("DELETE FROM playlist_items WHERE playlist_id = ?").bind(1, row.p.id).run();
  for (size_t i = 0; i < items.size(); ++i) {
    db.prepare(
          "INSERT INTO playlist_items (playlist_id, position, track_id, added_at, added_by) "
          "VALUES (?,?,?,?,?)")
        .bind_all(row.p.id, static_cast<int64_t>(i), items[i].track_id, items[i].added_at,
                  items[i].added_by)
        .run();
  }
  db.prepare("UPDATE playlists SET version = version + 1 WHERE rowid = ?").bind(1, row.rowid).run();
  return make_snapshot_id(row.p.id, row.version + 1);
}

void index_for_search(Connection& db, int64_t rowid, const std::string& name,
                      const std::string& description) {
  db.prepare("DELETE FROM playlist_fts WHERE rowid = ?").bind(1, rowid).run();
  db.prepare("INSERT INTO playlist_fts (rowid, name, description) VALUES (?,?,?)")
      .bind_all(rowid, name, description)
      .run();
}

// Loads the playlist for an item change, checking the snapshot id when one is given.
Result<Row> row_for_change(Connection& db, const std::string& id,
                           const std::optional<std::string>& snapshot) {
  auto row = load_row(db, id);
  if (!row) return fail(not_found("playlist"));
  if (snapshot) {
    auto v = snapshot_version(*snapshot, id);
    if (!v || *v > row->version) return fail(invalid("Invalid snapshot id"));
  }
  return std::move(*row);
}

Status<> check_tracks(Connection& db, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (!track_exists(db, id)) return fail(not_found("track " + id));
  }
  return Ok{};
}

}  // namespace

Result<Playlist> SqliteMusicStore::create_playlist(const std::string& owner_id,
                                                   const std::string& id, const PlaylistDetails& d,
                                                   int64_t now) {
  return write([&](Connection& db) -> Result<Playlist> {
    Transaction tx(db);
    db.prepare(
          "INSERT INTO playlists (id, owner_id, name, description, public, collaborative, "
          "version, created_at) VALUES (?,?,?,?,?,?,1,?)")
        .bind_all(id, owner_id, d.name.value_or("New Playlist"), d.description.value_or(""),
                  int64_t{d.is_public.value_or(true)}, int64_t{d.collaborative.value_or(false)},
                  now)
        .run();
    auto row = load_row(db, id);
    index_for_search(db, row->rowid, row->p.name, row->p.description);
    db.prepare("INSERT INTO playlist_follows (user_id, playlist_id) VALUES (?,?)")
        .bind_all(owner_id, id)
        .run();
    auto p = load_playlist(db, id);
    tx.commit();
    return std::move(*p);
  });
}

Result<Playlist> SqliteMusicStore::find_playlist(const std::string& id) {
  return read([&](Connection& db) -> Result<Playlist> {
    auto p = load_playlist(db, id);
    if (!p) return fail(not_found("playlist"));
    return std::move(*p);
  });
}

Result<std::string> SqliteMusicStore::change_playlist(const std::string& id,
                                                      const PlaylistDetails& d) {
  return write([&](Connection& db) -> Result<std::string> {
    Transaction tx(db);
    auto row = load_row(db, id);
    if (!row) return fail(not_found("playlist"));
    Playlist p = row->p;
    if (d.name) p.name = *d.name;
    if (d.description) p.description = *d.description;
    if (d.is_public) p.is_public = *d.is_public;
    if (d.collaborative) p.collaborative = *d.collaborative;
    // Spotify: a collaborative playlist is never public.
    if (p.collaborative && p.is_public)
      return fail(invalid("Collaborative playlists can't be public"));
    db.prepare(
          "UPDATE playlists SET name = ?, description = ?, public = ?, collaborative = ?, "
          "version = version + 1 WHERE rowid = ?")
        .bind_all(p.name, p.description, int64_t{p.is_public}, int64_t{p.collaborative}, row->rowid)
        .run();
    index_for_search(db, row->rowid, p.name, p.description);
    tx.commit();
    return make_snapshot_id(id, row->version + 1);
  });
}

Result<Page<Playlist>> SqliteMusicStore::user_playlists(const std::string& user_id,
                                                        bool include_private, int limit,
                                                        int64_t offset) {
  return read([&](Connection& db) -> Result<Page<Playlist>> {
    Page<Playlist> page;
    std::vector<std::string> ids;
    auto s = db.prepare(
        "SELECT p.id, count(*) OVER () FROM playlist_follows f JOIN playlists p "
        "ON p.id = f.playlist_id WHERE f.user_id = ?1 AND (p.public = 1 OR "
        "(?2 AND (p.owner_id = ?1 OR p.collaborative = 1))) ORDER BY f.seq DESC "
        "LIMIT ?3 OFFSET ?4");
    s.bind_all(user_id, int64_t{include_private}, int64_t{limit}, offset);
    while (s.step()) {
      ids.push_back(s.text(0));
      page.total = s.i64(1);
    }
    for (const auto& id : ids) {
      if (auto p = load_playlist(db, id)) page.items.push_back(std::move(*p));
    }
    return page;
  });
}

Result<Page<PlaylistItem>> SqliteMusicStore::playlist_items(const std::string& id, int limit,
                                                            int64_t offset) {
  return read([&](Connection& db) -> Result<Page<PlaylistItem>> {
    if (!load_row(db, id)) return fail(not_found("playlist"));
    Page<PlaylistItem> page;
    {
      auto s = db.prepare("SELECT count(*) FROM playlist_items WHERE playlist_id = ?");
      s.bind(1, id).step();
      page.total = s.i64(0);
    }
    std::vector<ItemRow> rows;
    {
      auto s = db.prepare(
          "SELECT track_id, added_at, added_by FROM playlist_items WHERE playlist_id = ? "
          "ORDER BY position LIMIT ? OFFSET ?");
      s.bind_all(id, int64_t{limit}, offset);
      while (s.step()) rows.push_back({s.text(0), s.i64(1), s.text(2)});
    }
    for (auto& r : rows) {
      if (auto t = load_track(db, r.track_id)) {
        page.items.push_back({r.added_at, r.added_by, std::move(*t)});
      }
    }
    return page;
  });
}

Result<std::string> SqliteMusicStore::add_playlist_items(const std::string& id,
                                                         const std::vector<std::string>& track_ids,
                                                         std::optional<int64_t> position,
                                                         const std::string& by_user, int64_t now) {
  return write([&](Connection& db) -> Result<std::string> {
    Transaction tx(db);
    auto row = row_for_change(db, id, std::nullopt);
    if (!row) return fail(row.error());
    if (auto ok = check_tracks(db, track_ids); !ok) return fail(ok.error());
    auto items = read_items(db, id);
    int64_t at = position.value_or(static_cast<int64_t>(items.size()));
    if (at < 0 || at > static_cast<int64_t>(items.size())) {
      return fail(invalid("Index out of bounds"));
    }
    std::vector<ItemRow> added;
    for (const auto& t : track_ids) added.push_back({t, now, by_user});
    items.insert(items.begin() + at, added.begin(), added.end());
    auto snapshot = write_items(db, *row, items);
    tx.commit();
    return snapshot;
  });
}

Result<std::string> SqliteMusicStore::replace_playlist_items(
    const std::string& id, const std::vector<std::string>& track_ids, const std::string& by_user,
    int64_t now) {
  return write([&](Connection& db) -> Result<std::string> {
    Transaction tx(db);
    auto row = row_for_change(db, id, std::nullopt);
    if (!row) return fail(row.error());
    if (auto ok = check_tracks(db, track_ids); !ok) return fail(ok.error());
    std::vector<ItemRow> items;
    for (const auto& t : track_ids) items.push_back({t, now, by_user});
    auto snapshot = write_items(db, *row, items);
    tx.commit();
    return snapshot;
  });
}

Result<std::string> SqliteMusicStore::reorder_playlist_items(
    const std::string& id, int64_t range_start, int64_t insert_before, int64_t range_length,
    const std::optional<std::string>& snapshot) {
  return write([&](Connection& db) -> Result<std::string> {
    Transaction tx(db);
    auto row = row_for_change(db, id, snapshot);
    if (!row) return fail(row.error());
    auto items = read_items(db, id);
    const auto n = static_cast<int64_t>(items.size());
    // Bounds from the request body may be anything up to INT64_MAX: compare without adding.
    if (range_length < 1 || range_start < 0 || range_start > n - range_length ||
        insert_before < 0 || insert_before > n) {
      return fail(invalid("Index out of bounds"));
    }
    std::vector<ItemRow> block(items.begin() + range_start,
                               items.begin() + range_start + range_length);
    items.erase(items.begin() + range_start, items.begin() + range_start + range_length);
    // insert_before counts positions of the list before the move.
    int64_t at = insert_before > range_start ? std::max(range_start, insert_before - range_length)
                                             : insert_before;
    items.insert(items.begin() + at, block.begin(), block.end());
    auto snap = write_items(db, *row, items);
    tx.commit();
    return snap;
  });
}

Result<std::string> SqliteMusicStore::remove_playlist_items(
    const std::string& id, const std::vector<PlaylistRemoval>& removals,
    const std::optional<std::string>& snapshot) {
  return write([&](Connection& db) -> Result<std::string> {
    Transaction tx(db);
    auto row = row_for_change(db, id, snapshot);
    if (!row) return fail(row.error());
    auto items = read_items(db, id);
    std::vector<bool> drop(items.size(), false);
    for (const auto& r : removals) {
      if (r.positions.empty()) {
        for (size_t i = 0; i < items.size(); ++i)
          drop[i] = drop[i] || items[i].track_id == r.track_id;
        continue;
      }
      for (int64_t pos : r.positions) {
        if (pos < 0 || pos >= static_cast<int64_t>(items.size()) ||
            items[pos].track_id != r.track_id) {
          return fail(invalid("Could not remove tracks, please check parameters."));
        }
        drop[pos] = true;
      }
    }
    std::vector<ItemRow> kept;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!drop[i]) kept.push_back(std::move(items[i]));
    }
    auto snap = write_items(db, *row, kept);
    tx.commit();
    return snap;
  });
}

Result<bool> SqliteMusicStore::may_edit_playlist(const std::string& id,
                                                 const std::string& user_id) {
  return read([&](Connection& db) -> Result<bool> {
    auto row = load_row(db, id);
    if (!row) return fail(not_found("playlist"));
    if (row->p.owner_id == user_id) return true;
    if (!row->p.collaborative) return false;
    return db.prepare("SELECT 1 FROM playlist_follows WHERE user_id = ? AND playlist_id = ?")
        .bind_all(user_id, id)
        .step();
  });
}

}  // namespace stagepass::music

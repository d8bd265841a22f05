// SqliteMusicStore: devices and the player. The state is stored as of its last change
// (`timestamp`); reading it at `now` advances progress and, when tracks ended meanwhile,
// moves on through the queue and the context and records the finished tracks as plays.
#include <algorithm>

#include "music/ids.hpp"
#include "music/sqlite/sqlite_music_internal.hpp"

namespace stagepass::music {
using namespace internal;

namespace {

struct State {
  std::string user_id, device_id, context_uri;
  std::vector<std::string> tracks, queue;
  int64_t position = 0;
  std::string track_id;
  int64_t progress_ms = 0;
  bool is_playing = false, shuffle = false;
  std::string repeat = "off";
  int64_t timestamp = 0;
};

std::optional<State> load_state(Connection& db, const std::string& user_id) {
  auto s = db.prepare(
      "SELECT device_id, context_uri, tracks, queue, position, track_id, progress_ms, "
      "is_playing, shuffle, repeat, timestamp FROM playback WHERE user_id = ?");
  if (!s.bind(1, user_id).step()) return std::nullopt;
  return State{user_id,   s.text(0), s.text(1), split(s.text(2), '\n'), split(s.text(3), '\n'),
               s.i64(4),  s.text(5), s.i64(6),  s.i64(7) != 0,          s.i64(8) != 0,
               s.text(9), s.i64(10)};
}

void save_state(Connection& db, const State& st) {
  db.prepare(
        "INSERT OR REPLACE INTO playback (user_id, device_id, context_uri, tracks, queue, "
        "position, track_id, progress_ms, is_playing, shuffle, repeat, timestamp) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
      .bind_all(st.user_id, st.device_id, st.context_uri, joined(st.tracks, '\n'),
                joined(st.queue, '\n'), st.position, st.track_id, st.progress_ms,
                int64_t{st.is_playing}, int64_t{st.shuffle}, st.repeat, st.timestamp)
      .run();
}

std::optional<Device> find_device(Connection& db, const std::string& user_id,
                                  const std::optional<std::string>& id) {
  auto s = id ? db.prepare(
                    "SELECT id, name, type, volume_percent, is_active FROM devices "
                    "WHERE user_id = ? AND id = ?")
              : db.prepare(
                    "SELECT id, name, type, volume_percent, is_active FROM devices "
                    "WHERE user_id = ? AND is_active = 1");
  s.bind(1, user_id);
  if (id) s.bind(2, *id);
  if (!s.step()) return std::nullopt;
  return Device{s.text(0), s.text(1), s.text(2), static_cast<int>(s.i64(3)), s.i64(4) != 0};
}

void activate(Connection& db, const std::string& user_id, const std::string& device_id) {
  db.prepare("UPDATE devices SET is_active = (id = ?) WHERE user_id = ?")
      .bind_all(device_id, user_id)
      .run();
}

int64_t duration_of(Connection& db, const std::string& track_id) {
  auto s = db.prepare("SELECT duration_ms FROM tracks WHERE id = ?");
  return s.bind(1, track_id).step() ? s.i64(0) : 0;
}

// Moves to the next (+1) or previous (-1) track. `ended` is true when the track played to
// its end (repeat=track replays it) rather than a skip.
void advance(State& st, int direction, bool ended) {
  st.progress_ms = 0;
  if (direction > 0 && ended && st.repeat == "track") return;
  if (direction > 0 && !st.queue.empty()) {
    st.track_id = st.queue.front();
    st.queue.erase(st.queue.begin());
    return;
  }
  const auto n = static_cast<int64_t>(st.tracks.size());
  if (n == 0) {
    st.is_playing = false;
    return;
  }
  int64_t next = st.position + direction;
  if (direction > 0 && st.shuffle && n > 1) {
    // Deterministic shuffle: a step derived from the track and the time, never 0.
    uint64_t h = fnv1a(st.track_id + std::to_string(st.timestamp));
    next = (st.position + 1 + static_cast<int64_t>(h % (n - 1))) % n;
  }
  if (next >= n || next < 0) {
    if (st.repeat == "context") {
      next = (next + n) % n;
    } else if (next < 0) {
      next = 0;
    } else {  // the context ran out: stop on its last track
      st.is_playing = false;
      next = n - 1;
    }
  }
  st.position = next;
  st.track_id = st.tracks[next];
}

// Brings a playing state forward to `now`; true when it changed beyond progress.
bool settle(Connection& db, State& st, int64_t now) {
  if (!st.is_playing || st.track_id.empty() || now <= st.timestamp) return false;
  int64_t progress = st.progress_ms + (now - st.timestamp);
  int64_t track_start = st.timestamp - st.progress_ms;
  bool changed = false;
  for (int guard = 0; guard < 500 && st.is_playing; ++guard) {
    int64_t duration = duration_of(db, st.track_id);
    if (duration <= 0 || progress < duration) break;
    int64_t ended_at = track_start + duration;
    insert_play(db, st.user_id, st.track_id, ended_at, st.context_uri);
    progress -= duration;
    track_start = ended_at;
    st.timestamp = ended_at;
    advance(st, +1, true);
    changed = true;
  }
  if (changed && st.is_playing) {  // partway into the track playing now
    st.progress_ms = std::max<int64_t>(0, now - track_start);
    st.timestamp = now;
  }
  return changed;
}

// The track ids a context uri plays; nullopt when the context is unknown.
std::optional<std::vector<std::string>> resolve_context(Connection& db, const std::string& uri) {
  auto parts = split(uri, ':');
  if (parts.size() != 3) return std::nullopt;
  const std::string &kind = parts[1], &id = parts[2];
  std::vector<std::string> out;
  if (kind == "album") {
    if (!db.prepare("SELECT 1 FROM albums WHERE id = ?").bind(1, id).step()) return std::nullopt;
    auto s =
        db.prepare("SELECT id FROM tracks WHERE album_id = ? ORDER BY disc_number, track_number");
    s.bind(1, id);
    while (s.step()) out.push_back(s.text(0));
  } else if (kind == "playlist") {
    if (!db.prepare("SELECT 1 FROM playlists WHERE id = ?").bind(1, id).step()) return std::nullopt;
    auto s =
        db.prepare("SELECT track_id FROM playlist_items WHERE playlist_id = ? ORDER BY position");
    s.bind(1, id);
    while (s.step()) out.push_back(s.text(0));
  } else if (kind == "artist") {
    if (!artist_exists(db, id)) return std::nullopt;
    auto s = db.prepare(
        "SELECT t.id FROM track_artists x JOIN tracks t ON t.id = x.track_id "
        "WHERE x.artist_id = ? ORDER BY t.popularity DESC, t.id LIMIT 10");
    s.bind(1, id);
    while (s.step()) out.push_back(s.text(0));
  } else {
    return std::nullopt;
  }
  return out;
}

Error no_device() {
  return {ErrorCode::kNoDevice, "Player command failed: No active device found"};
}
Error restricted() {
  return {ErrorCode::kRestricted, "Player command failed: Restriction violated"};
}

}  // namespace

Status<> SqliteMusicStore::upsert_device(const std::string& user_id, const Device& d) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    db.prepare(
          "INSERT OR REPLACE INTO devices (user_id, id, name, type, volume_percent, is_active) "
          "VALUES (?,?,?,?,?,?)")
        .bind_all(user_id, d.id, d.name, d.type, int64_t{d.volume_percent}, int64_t{d.is_active})
        .run();
    if (d.is_active) activate(db, user_id, d.id);
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<Device>> SqliteMusicStore::devices(const std::string& user_id) {
  return read([&](Connection& db) -> Result<std::vector<Device>> {
    auto s = db.prepare(
        "SELECT id, name, type, volume_percent, is_active FROM devices WHERE user_id = ? "
        "ORDER BY is_active DESC, name, id");
    s.bind(1, user_id);
    std::vector<Device> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), static_cast<int>(s.i64(3)), s.i64(4) != 0});
    }
    return out;
  });
}

Result<std::optional<PlaybackState>> SqliteMusicStore::playback(const std::string& user_id,
                                                                int64_t now) {
  // The writer: settling may record plays. Without a change nothing is written (no fsync).
  return write([&](Connection& db) -> Result<std::optional<PlaybackState>> {
    auto device = find_device(db, user_id, std::nullopt);
    if (!device) return std::optional<PlaybackState>{};
    auto st = load_state(db, user_id);
    if (!st || st->track_id.empty()) return std::optional<PlaybackState>{};
    if (settle(db, *st, now)) save_state(db, *st);
    PlaybackState out;
    out.device = std::move(*device);
    out.item = load_track(db, st->track_id);
    out.is_playing = st->is_playing;
    out.progress_ms = st->progress_ms + (st->is_playing ? now - st->timestamp : 0);
    if (out.item) out.progress_ms = std::min(out.progress_ms, out.item->duration_ms);
    out.shuffle_state = st->shuffle;
    out.repeat_state = st->repeat;
    out.context_uri = st->context_uri;
    out.timestamp = st->timestamp;
    return std::optional<PlaybackState>(std::move(out));
  });
}

// Runs `change` on the user's state (created empty when absent) brought to `now`, with the
// active device required, and saves it, all in one transaction.
template <class F>
static Status<> with_state(Connection& db, const std::string& user_id, int64_t now, F change,
                           const std::optional<std::string>& activate_device = std::nullopt) {
  Transaction tx(db);
  if (activate_device) {
    if (!find_device(db, user_id, activate_device)) return fail(not_found("Device"));
    activate(db, user_id, *activate_device);
  }
  auto device = find_device(db, user_id, std::nullopt);
  if (!device) return fail(no_device());
  State st = load_state(db, user_id).value_or(State{});
  st.user_id = user_id;
  st.device_id = device->id;
  settle(db, st, now);
  if (st.is_playing) st.progress_ms += now - st.timestamp;
  st.timestamp = now;
  if (auto r = change(st); !r) return r;
  save_state(db, st);
  tx.commit();
  return Ok{};
}

Status<> SqliteMusicStore::play(const std::string& user_id, const PlayCommand& cmd, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    auto change = [&](State& st) -> Status<> {
      std::optional<std::vector<std::string>> list;
      if (cmd.context_uri) {
        list = resolve_context(db, *cmd.context_uri);
        if (!list) return fail(not_found("Context"));
      } else if (!cmd.track_ids.empty()) {
        for (const auto& id : cmd.track_ids) {
          if (!track_exists(db, id)) return fail(not_found("track " + id));
        }
        list = cmd.track_ids;
      }
      if (list) {
        int64_t at = cmd.offset_position.value_or(0);
        if (cmd.offset_track_id) {
          auto it = std::find(list->begin(), list->end(), *cmd.offset_track_id);
          if (it == list->end()) return fail(invalid("Invalid offset"));
          at = it - list->begin();
        }
        if (list->empty() || at < 0 || at >= static_cast<int64_t>(list->size())) {
          return fail(invalid("Invalid offset"));
        }
        st.context_uri = cmd.context_uri.value_or("");
        st.tracks = std::move(*list);
        st.position = at;
        st.track_id = st.tracks[at];
        st.progress_ms = 0;
      } else if (st.track_id.empty()) {
        return fail(restricted());  // nothing to resume
      }
      if (cmd.position_ms)
        st.progress_ms = std::min(*cmd.position_ms, duration_of(db, st.track_id));
      st.is_playing = true;
      return Ok{};
    };
    return with_state(db, user_id, now, change, cmd.device_id);
  });
}

Status<> SqliteMusicStore::pause(const std::string& user_id, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    return with_state(db, user_id, now, [&](State& st) -> Status<> {
      if (!st.is_playing) return fail(restricted());
      st.is_playing = false;
      return Ok{};
    });
  });
}

Status<> SqliteMusicStore::skip(const std::string& user_id, int direction, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    return with_state(db, user_id, now, [&](State& st) -> Status<> {
      if (st.track_id.empty()) return fail(restricted());
      // Spotify: "previous" past the first seconds restarts the track.
      if (direction < 0 && st.progress_ms > 3000) {
        st.progress_ms = 0;
        return Ok{};
      }
      // A track heard for 30 s or more counts as played.
      if (direction > 0 && st.progress_ms >= 30000) {
        insert_play(db, user_id, st.track_id, now, st.context_uri);
      }
      bool was_playing = st.is_playing;
      advance(st, direction, false);
      st.is_playing = was_playing && st.is_playing;
      return Ok{};
    });
  });
}

Status<> SqliteMusicStore::seek(const std::string& user_id, int64_t position_ms, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    return with_state(db, user_id, now, [&](State& st) -> Status<> {
      if (st.track_id.empty()) return fail(restricted());
      st.progress_ms = std::min(position_ms, duration_of(db, st.track_id));
      return Ok{};
    });
  });
}

Status<> SqliteMusicStore::set_volume(const std::string& user_id, int percent,
                                      const std::optional<std::string>& device_id) {
  return write([&](Connection& db) -> Status<> {
    auto device = find_device(db, user_id, device_id);
    if (!device) return fail(device_id ? not_found("Device") : no_device());
    db.prepare("UPDATE devices SET volume_percent = ? WHERE user_id = ? AND id = ?")
        .bind_all(int64_t{percent}, user_id, device->id)
        .run();
    return Ok{};
  });
}

Status<> SqliteMusicStore::set_shuffle(const std::string& user_id, bool state, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    return with_state(db, user_id, now, [&](State& st) -> Status<> {
      st.shuffle = state;
      return Ok{};
    });
  });
}

Status<> SqliteMusicStore::set_repeat(const std::string& user_id, const std::string& mode,
                                      int64_t now) {
  return write([&](Connection& db) -> Status<> {
    return with_state(db, user_id, now, [&](State& st) -> Status<> {
      st.repeat = mode;
      return Ok{};
    });
  });
}

Status<> SqliteMusicStore::add_to_queue(const std::string& user_id, const std::string& track_id,
                                        int64_t now) {
  return write([&](Connection& db) -> Status<> {
    if (!track_exists(db, track_id)) return fail(not_found("track"));
    return with_state(db, user_id, now, [&](State& s) -> Status<> {
      s.queue.push_back(track_id);
      return Ok{};
    });
  });
}

Status<> SqliteMusicStore::transfer(const std::string& user_id, const std::string& device_id,
                                    std::optional<bool> play, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    auto change = [&](State& st) -> Status<> {
      if (play && !st.track_id.empty()) st.is_playing = *play;
      return Ok{};
    };
    return with_state(db, user_id, now, change, std::optional<std::string>(device_id));
  });
}

}  // namespace stagepass::music

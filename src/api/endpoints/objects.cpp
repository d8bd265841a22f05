#include "api/endpoints/objects.hpp"

#include <ctime>

#include "core/text.hpp"

namespace stagepass::api::endpoints {

Urls::Urls(const std::string& base_url) : base(base_url) {
  issuer = base_url.ends_with("/v1") ? base_url.substr(0, base_url.size() - 3) : base_url;
}

std::string Urls::href(std::string_view type_plural, std::string_view id) const {
  return base + "/" + std::string(type_plural) + "/" + std::string(id);
}

std::string iso_time(int64_t ms, bool with_millis) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  if (with_millis) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
  } else {
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  return buf;
}

namespace {

bj::object external(const Urls& u, std::string_view type, std::string_view id) {
  return {{"spotify", u.issuer + "/" + std::string(type) + "/" + std::string(id)}};
}

bj::array images(const Urls& u, std::string_view type, std::string_view id) {
  bj::array out;
  for (int size : {640, 300, 64}) {
    out.push_back(bj::object{{"url", u.issuer + "/images/" + std::string(type) + "/" +
                                         std::string(id) + "/" + std::to_string(size)},
                             {"height", size},
                             {"width", size}});
  }
  return out;
}

// id, uri, href, external_urls, type: the identity fields every object carries.
void identity(bj::object& o, const Urls& u, std::string_view type, std::string_view plural,
              const std::string& id) {
  o["external_urls"] = external(u, type, id);
  o["href"] = u.href(plural, id);
  o["id"] = id;
  o["type"] = type;
  o["uri"] = "stagepass:" + std::string(type) + ":" + id;
}

bj::array artists_of(const Urls& u, const std::vector<music::ArtistRef>& refs) {
  bj::array out;
  for (const auto& a : refs) out.push_back(artist_simple(u, a));
  return out;
}

std::string page_url(const std::string& url, const Params& params, int64_t offset, int limit) {
  Params all = params;
  all.emplace_back("offset", std::to_string(offset));
  all.emplace_back("limit", std::to_string(limit));
  return url + "?" + form_encode(all);
}

}  // namespace

bj::object artist_simple(const Urls& u, const music::ArtistRef& a) {
  bj::object o;
  identity(o, u, "artist", "artists", a.id);
  o["name"] = a.name;
  return o;
}

bj::object artist_full(const Urls& u, const music::Artist& a) {
  bj::object o;
  identity(o, u, "artist", "artists", a.id);
  o["followers"] = {{"href", nullptr}, {"total", a.followers}};
  bj::array genres;
  for (const auto& g : a.genres) genres.push_back(bj::string(g));
  o["genres"] = std::move(genres);
  o["images"] = images(u, "artist", a.id);
  o["name"] = a.name;
  o["popularity"] = a.popularity;
  return o;
}

bj::object album_simple(const Urls& u, const music::Album& a) {
  bj::object o;
  identity(o, u, "album", "albums", a.id);
  o["album_type"] = a.album_type;
  o["total_tracks"] = a.total_tracks;
  o["available_markets"] = bj::array{};
  o["images"] = images(u, "album", a.id);
  o["name"] = a.name;
  o["release_date"] = a.release_date;
  o["release_date_precision"] = "day";
  o["artists"] = artists_of(u, a.artists);
  return o;
}

bj::object album_full(const Urls& u, const music::Album& a, const music::Page<music::Track>& tracks,
                      int limit) {
  bj::object o = album_simple(u, a);
  bj::array items;
  for (const auto& t : tracks.items) items.push_back(track_simple(u, t));
  o["tracks"] =
      paging(u.href("albums", a.id) + "/tracks", {}, std::move(items), limit, 0, tracks.total);
  std::string year = a.release_date.substr(0, 4);
  o["copyrights"] = bj::array{bj::object{{"text", "(C) " + year + " " + a.label}, {"type", "C"}},
                              bj::object{{"text", "(P) " + year + " " + a.label}, {"type", "P"}}};
  o["external_ids"] = {
      {"upc", "00" + std::to_string(std::hash<std::string>{}(a.id) % 10000000000ull)}};
  o["genres"] = bj::array{};
  o["label"] = a.label;
  o["popularity"] = a.popularity;
  return o;
}

bj::object track_simple(const Urls& u, const music::Track& t) {
  bj::object o;
  identity(o, u, "track", "tracks", t.id);
  o["artists"] = artists_of(u, t.artists);
  o["available_markets"] = bj::array{};
  o["disc_number"] = t.disc_number;
  o["duration_ms"] = t.duration_ms;
  o["explicit"] = t.explicit_;
  o["is_local"] = false;
  o["is_playable"] = true;
  o["name"] = t.name;
  o["preview_url"] = nullptr;
  o["track_number"] = t.track_number;
  return o;
}

bj::object track_full(const Urls& u, const music::Track& t) {
  bj::object o = track_simple(u, t);
  o["album"] = album_simple(u, t.album);
  o["external_ids"] = {{"isrc", "SP" + t.id.substr(0, 10)}};
  o["popularity"] = t.popularity;
  return o;
}

bj::object user_public(const Urls& u, const music::Profile& p) {
  bj::object o;
  identity(o, u, "user", "users", p.id);
  o["display_name"] = p.display_name;
  o["followers"] = {{"href", nullptr}, {"total", p.followers}};
  o["images"] = bj::array{};
  return o;
}

bj::object user_private(const Urls& u, const music::Profile& p, bool with_email,
                        bool with_private) {
  bj::object o = user_public(u, p);
  if (with_email) o["email"] = p.email;
  if (with_private) {
    o["country"] = p.country;
    o["product"] = p.product;
    o["explicit_content"] = {{"filter_enabled", false}, {"filter_locked", false}};
  }
  return o;
}

namespace {
bj::object owner(const Urls& u, const music::Playlist& p) {
  bj::object o;
  identity(o, u, "user", "users", p.owner_id);
  o["display_name"] =
      p.owner_display_name.empty() ? bj::value(nullptr) : bj::value(p.owner_display_name);
  return o;
}
}  // namespace

bj::object playlist_simple(const Urls& u, const music::Playlist& p) {
  bj::object o;
  identity(o, u, "playlist", "playlists", p.id);
  o["collaborative"] = p.collaborative;
  o["description"] = p.description;
  o["images"] = images(u, "playlist", p.id);
  o["name"] = p.name;
  o["owner"] = owner(u, p);
  o["public"] = p.is_public;
  o["snapshot_id"] = p.snapshot_id;
  o["tracks"] = {{"href", u.href("playlists", p.id) + "/tracks"}, {"total", p.total_tracks}};
  return o;
}

bj::object playlist_track(const Urls& u, const music::PlaylistItem& item) {
  bj::object by;
  identity(by, u, "user", "users", item.added_by);
  return {{"added_at", iso_time(item.added_at)},
          {"added_by", std::move(by)},
          {"is_local", false},
          {"track", track_full(u, item.track)}};
}

bj::object playlist_full(const Urls& u, const music::Playlist& p,
                         const music::Page<music::PlaylistItem>& items, int limit) {
  bj::object o = playlist_simple(u, p);
  o["followers"] = {{"href", nullptr}, {"total", p.followers}};
  bj::array list;
  for (const auto& i : items.items) list.push_back(playlist_track(u, i));
  o["tracks"] =
      paging(u.href("playlists", p.id) + "/tracks", {}, std::move(list), limit, 0, items.total);
  return o;
}

bj::object device(const music::Device& d) {
  return {{"id", d.id},
          {"is_active", d.is_active},
          {"is_private_session", false},
          {"is_restricted", false},
          {"name", d.name},
          {"type", d.type},
          {"volume_percent", d.volume_percent},
          {"supports_volume", true}};
}

bj::object currently_playing(const Urls& u, const music::PlaybackState& s) {
  bj::value context = nullptr;
  if (!s.context_uri.empty()) {
    auto first = s.context_uri.find(':'), second = s.context_uri.rfind(':');
    std::string type = s.context_uri.substr(first + 1, second - first - 1);
    std::string id = s.context_uri.substr(second + 1);
    context = bj::object{{"type", type},
                         {"href", u.href(type + "s", id)},
                         {"external_urls", external(u, type, id)},
                         {"uri", s.context_uri}};
  }
  bj::object o{{"context", std::move(context)},
               {"timestamp", s.timestamp},
               {"progress_ms", s.progress_ms},
               {"is_playing", s.is_playing},
               {"currently_playing_type", s.item ? "track" : "unknown"}};
  o["item"] = s.item ? bj::value(track_full(u, *s.item)) : bj::value(nullptr);
  o["actions"] = {{"disallows", {{"resuming", s.is_playing}, {"pausing", !s.is_playing}}}};
  return o;
}

bj::object playback_state(const Urls& u, const music::PlaybackState& s) {
  bj::object o = currently_playing(u, s);
  o["device"] = device(s.device);
  o["repeat_state"] = s.repeat_state;
  o["shuffle_state"] = s.shuffle_state;
  return o;
}

bj::object play_history(const Urls& u, const music::PlayHistory& h) {
  bj::value context = nullptr;
  if (!h.context_uri.empty()) {
    auto first = h.context_uri.find(':'), second = h.context_uri.rfind(':');
    std::string type = h.context_uri.substr(first + 1, second - first - 1);
    std::string id = h.context_uri.substr(second + 1);
    context = bj::object{{"type", type},
                         {"href", u.href(type + "s", id)},
                         {"external_urls", external(u, type, id)},
                         {"uri", h.context_uri}};
  }
  return {{"track", track_full(u, h.track)},
          {"played_at", iso_time(h.played_at, true)},
          {"context", std::move(context)}};
}

bj::object paging(const std::string& url, const Params& params, bj::array items, int limit,
                  int64_t offset, int64_t total) {
  bj::object o;
  o["href"] = page_url(url, params, offset, limit);
  o["items"] = std::move(items);
  o["limit"] = limit;
  o["next"] = offset + limit < total ? bj::value(page_url(url, params, offset + limit, limit))
                                     : bj::value(nullptr);
  o["offset"] = offset;
  o["previous"] =
      offset > 0 ? bj::value(page_url(url, params, std::max<int64_t>(0, offset - limit), limit))
                 : bj::value(nullptr);
  o["total"] = total;
  return o;
}

bj::object cursor_paging(const std::string& url, const Params& params, bj::array items, int limit,
                         const std::string& after, const std::string& before,
                         const char* next_param, const std::string& next_value, bool has_more,
                         int64_t total) {
  Params base = params;
  base.emplace_back("limit", std::to_string(limit));
  bj::object o;
  o["href"] = url + "?" + form_encode(base);
  o["items"] = std::move(items);
  o["limit"] = limit;
  if (has_more) {
    Params next = base;
    next.emplace_back(next_param, next_value);
    o["next"] = url + "?" + form_encode(next);
  } else {
    o["next"] = nullptr;
  }
  o["cursors"] = {{"after", after.empty() ? bj::value(nullptr) : bj::value(after)},
                  {"before", before.empty() ? bj::value(nullptr) : bj::value(before)}};
  o["total"] = total;
  return o;
}

}  // namespace stagepass::api::endpoints

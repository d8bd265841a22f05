// Spotify Web API objects built from music records: field names and types as Spotify's
// reference has them, with ids, `stagepass:<type>:<id>` uris, `href`s under the request's
// base url (<issuer>/v1) and external_urls {"spotify": "<issuer>/<type>/<id>"} (the key
// Spotify clients read). Pure functions.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "music/music_types.hpp"

namespace stagepass::api::endpoints {

namespace bj = boost::json;

// Where objects point: the API base ("<issuer>/v1") and the issuer.
struct Urls {
  std::string base;
  std::string issuer;
  explicit Urls(const std::string& base_url);
  std::string href(std::string_view type_plural, std::string_view id) const;
};

std::string iso_time(int64_t ms, bool with_millis = false);  // "2024-05-01T12:00:00Z"

bj::object artist_simple(const Urls& u, const music::ArtistRef& a);
bj::object artist_full(const Urls& u, const music::Artist& a);
bj::object album_simple(const Urls& u, const music::Album& a);
// The full album with the first page of its tracks.
bj::object album_full(const Urls& u, const music::Album& a, const music::Page<music::Track>& tracks,
                      int limit);
bj::object track_simple(const Urls& u, const music::Track& t);  // no album
bj::object track_full(const Urls& u, const music::Track& t);

bj::object user_public(const Urls& u, const music::Profile& p);
// /v1/me: email only with user-read-email; country, product, explicit_content only with
// user-read-private.
bj::object user_private(const Urls& u, const music::Profile& p, bool with_email, bool with_private);

bj::object playlist_simple(const Urls& u, const music::Playlist& p);
bj::object playlist_track(const Urls& u, const music::PlaylistItem& item);
bj::object playlist_full(const Urls& u, const music::Playlist& p,
                         const music::Page<music::PlaylistItem>& items, int limit);

bj::object device(const music::Device& d);
bj::object playback_state(const Urls& u, const music::PlaybackState& s);
bj::object currently_playing(const Urls& u, const music::PlaybackState& s);
bj::object play_history(const Urls& u, const music::PlayHistory& h);

// Paging object {href, items, limit, next, offset, previous, total}; `url` is the endpoint
// without query, `params` the other query parameters to repeat in href/next/previous.
using Params = std::vector<std::pair<std::string, std::string>>;
bj::object paging(const std::string& url, const Params& params, bj::array items, int limit,
                  int64_t offset, int64_t total);
// Cursor paging {href, items, limit, next, cursors:{after, before}, total}. `next_param` is
// the cursor parameter of `next` ("after" or "before") with value `next_value`; no next when
// `has_more` is false.
bj::object cursor_paging(const std::string& url, const Params& params, bj::array items, int limit,
                         const std::string& after, const std::string& before,
                         const char* next_param, const std::string& next_value, bool has_more,
                         int64_t total);

}  // namespace stagepass::api::endpoints

#include "music/catalog_generator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "music/catalog_words.hpp"
#include "music/ids.hpp"

namespace stagepass::music {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_); }
  int between(int lo, int hi) { return lo + static_cast<int>(next() % uint64_t(hi - lo + 1)); }
  bool chance(int percent) { return between(1, 100) <= percent; }
  std::string_view pick(const std::vector<std::string_view>& v) { return v[next() % v.size()]; }

 private:
  uint64_t state_;
};

// Each draw is a statement of its own: the arguments of a call, std::string's operator+
// included, are evaluated in an order the language leaves open (GCC right to left, Clang left
// to right), so a name built inside one expression came out differently from the two
// compilers. Names and the release date draw their parts last first, the order the Release
// (GCC) builds have always produced, so a catalog generated before this fix is the one
// generated after it. (A duration's built-in integer `+` was evaluated left to right by both.)
std::string artist_name(Rng& r) {
  using namespace words;
  switch (r.between(0, 4)) {
    case 0: {
      const auto last = r.pick(last_names());
      const auto first = r.pick(first_names());
      return std::string(first) + " " + std::string(last);
    }
    case 1: {
      const auto noun = r.pick(nouns());
      const auto adjective = r.pick(adjectives());
      return "The " + std::string(adjective) + " " + std::string(noun) + "s";
    }
    case 2: {
      const auto noun = r.pick(nouns());
      const auto adjective = r.pick(adjectives());
      return std::string(adjective) + " " + std::string(noun);
    }
    case 3: {
      const auto second = r.pick(nouns());
      const auto first = r.pick(nouns());
      return std::string(first) + " & The " + std::string(second) + "s";
    }
    default: {
      const auto noun = r.pick(nouns());
      const auto first = r.pick(first_names());
      return std::string(first) + " " + std::string(noun);
    }
  }
}

std::string title(Rng& r) {
  using namespace words;
  switch (r.between(0, 5)) {
    case 0: {
      const auto noun = r.pick(nouns());
      const auto adjective = r.pick(adjectives());
      return std::string(adjective) + " " + std::string(noun);
    }
    case 1: {
      const auto noun = r.pick(nouns());
      const auto verb = r.pick(verbs());
      return std::string(verb) + " the " + std::string(noun);
    }
    case 2: {
      const auto second = r.pick(nouns());
      const auto first = r.pick(nouns());
      return std::string(first) + " of " + std::string(second) + "s";
    }
    case 3:
      return std::string(r.pick(nouns()));
    case 4: {
      const auto adjective = r.pick(adjectives());
      const auto verb = r.pick(verbs());
      return std::string(verb) + " " + std::string(adjective);
    }
    default: {
      const auto noun = r.pick(nouns());
      const auto adjective = r.pick(adjectives());
      return "The " + std::string(adjective) + " " + std::string(noun);
    }
  }
}

int64_t scaled(int64_t base, double scale) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(static_cast<double>(base) * scale)));
}

}  // namespace

CatalogCounts generate_catalog(const CatalogOptions& o, CatalogSink& sink) {
  const int64_t n_artists = scaled(2000, o.scale);
  const int64_t n_albums = scaled(10000, o.scale);
  const int64_t n_tracks = scaled(100000, o.scale);
  Rng r(o.seed);

  std::vector<ArtistRef> artists;
  artists.reserve(n_artists);
  for (int64_t i = 0; i < n_artists; ++i) {
    Artist a;
    a.id = derived_id(o.seed, "artist", i);
    a.name = artist_name(r);
    int genres = r.between(1, 3);
    for (int g = 0; g < genres; ++g) {
      auto name = std::string(r.pick(words::genres()));
      if (std::find(a.genres.begin(), a.genres.end(), name) == a.genres.end())
        a.genres.push_back(name);
    }
    // Popularity skews low, as in any real catalog.
    int p = r.between(0, 100);
    a.popularity = p * p / 100;
    a.followers = static_cast<int64_t>(a.popularity) * a.popularity * 97 + r.between(0, 5000);
    sink.add_artist(a);
    artists.push_back({a.id, a.name});
  }

  // Track counts per album: singles 1-3, compilations 12-20, albums 8-16; then topped up
  // round-robin until the catalog has n_tracks.
  std::vector<Album> albums(n_albums);
  int64_t planned = 0;
  for (int64_t i = 0; i < n_albums; ++i) {
    Album& al = albums[i];
    al.id = derived_id(o.seed, "album", i);
    al.name = title(r);
    int kind = r.between(1, 100);
    al.album_type = kind <= 20 ? "single" : kind <= 25 ? "compilation" : "album";
    al.total_tracks = al.album_type == "single"        ? r.between(1, 3)
                      : al.album_type == "compilation" ? r.between(12, 20)
                                                       : r.between(8, 16);
    char date[16];
    const int day = r.between(1, 28);  // last first, as GCC evaluated snprintf's arguments
    const int month = r.between(1, 12);
    const int year = r.between(1965, 2024);
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", year, month, day);
    al.release_date = date;
    al.label = std::string(r.pick(words::label_words())) + " Records";
    al.popularity = r.between(0, 100);
    al.artists.push_back(artists[i % n_artists]);
    if (r.chance(8)) {
      const auto& other = artists[r.next() % n_artists];
      if (other.id != al.artists[0].id) al.artists.push_back(other);
    }
    planned += al.total_tracks;
  }
  if (std::all_of(albums.begin(), albums.end(),
                  [](const Album& a) { return a.album_type == "single"; })) {
    albums[0].album_type = "album";  // tiny scales: something must take the top-up
  }
  for (int64_t i = 0; planned < n_tracks; i = (i + 1) % n_albums) {
    if (albums[i].album_type == "single") continue;
    ++albums[i].total_tracks;
    ++planned;
  }

  int64_t track_index = 0;
  for (auto& al : albums) {
    sink.add_album(al);
    Track t;
    t.album.id = al.id;
    for (int n = 1; n <= al.total_tracks; ++n) {
      t.id = derived_id(o.seed, "track", track_index++);
      t.name = al.album_type == "single" && n == 1 ? al.name : title(r);
      t.artists = {al.artists[0]};
      if (r.chance(10)) {  // a featured artist
        const auto& other = artists[r.next() % n_artists];
        if (other.id != al.artists[0].id) t.artists.push_back(other);
      }
      t.disc_number = 1;
      t.track_number = n;
      const int seconds = r.between(95, 420);
      const int millis = r.between(0, 999);
      t.duration_ms = seconds * 1000 + millis;
      t.explicit_ = r.chance(12);
      t.popularity = std::clamp(al.popularity + r.between(-20, 20), 0, 100);
      sink.add_track(t);
    }
  }
  return {n_artists, n_albums, track_index};
}

Result<EnsureCatalogOutcome> ensure_catalog(MusicStore& store, const CatalogOptions& options) {
  auto counts = store.catalog_counts();
  if (!counts) return fail(counts.error());
  if (counts->tracks > 0) return EnsureCatalogOutcome{*counts, false, 0};
  auto start = std::chrono::steady_clock::now();
  auto loaded = store.load_catalog([&](CatalogSink& sink) { generate_catalog(options, sink); });
  if (!loaded) return fail(loaded.error());
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  counts = store.catalog_counts();
  if (!counts) return fail(counts.error());
  return EnsureCatalogOutcome{*counts, true, elapsed};
}

}  // namespace stagepass::music

#include "music/sqlite/catalog_cache.hpp"

namespace stagepass::music {
namespace {

// A string's heap beyond its object (short strings live inside it).
size_t heap(const std::string& s) { return s.size() > 15 ? s.size() + 1 : 0; }

template <class T, class Each>
size_t heap(const std::vector<T>& v, Each each) {
  size_t n = v.capacity() * sizeof(T);
  for (const auto& x : v) n += each(x);
  return n;
}

size_t heap(const std::vector<std::string>& v) {
  return heap(v, [](const std::string& s) { return heap(s); });
}

size_t heap(const std::vector<ArtistRef>& v) {
  return heap(v, [](const ArtistRef& r) { return heap(r.id) + heap(r.name); });
}

size_t album_heap(const Album& a) {
  return heap(a.id) + heap(a.name) + heap(a.album_type) + heap(a.release_date) + heap(a.label) +
         heap(a.artists);
}

}  // namespace

size_t approx_bytes(const Artist& a) {
  return sizeof(Artist) + heap(a.id) + heap(a.name) + heap(a.genres);
}

size_t approx_bytes(const Album& a) { return sizeof(Album) + album_heap(a); }

size_t approx_bytes(const Track& t) {
  return sizeof(Track) + heap(t.id) + heap(t.name) + album_heap(t.album) + heap(t.artists);
}

size_t approx_bytes(const std::vector<ArtistAlbumRow>& rows) {
  return sizeof(rows) + heap(rows, [](const ArtistAlbumRow& r) {
           return heap(r.id) + heap(r.group) + heap(r.date);
         });
}

size_t approx_bytes(const Page<std::string>& page) { return sizeof(page) + heap(page.items); }

}  // namespace stagepass::music

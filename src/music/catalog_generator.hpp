// The catalog generator: a deterministic, synthetic music catalog (artists, albums, tracks)
// so the Web API has something to serve. The same seed and scale always produce the same ids,
// names and numbers (splitmix64 over fixed word lists); ids depend only on (seed, kind, index).
// At scale 1.0: 2,000 artists, 10,000 albums and at least 100,000 tracks.
// Thread safety: pure functions of their arguments (and of the store they write to).
#pragma once

#include <cstdint>

#include "core/result.hpp"
#include "music/music_store.hpp"

namespace stagepass::music {

struct CatalogOptions {
  uint64_t seed = 0x53746167657061ull;  // "Stagepa"
  double scale = 1.0;                   // the server reads STAGEPASS_CATALOG_SCALE
};

// Sends the whole catalog to `sink` (artists, then each album followed by its tracks).
// Returns what it produced.
CatalogCounts generate_catalog(const CatalogOptions& options, CatalogSink& sink);

struct EnsureCatalogOutcome {
  CatalogCounts counts;    // what the store holds afterwards
  bool generated = false;  // false: the catalog was already there
  int64_t elapsed_ms = 0;  // generation + load + search index, when generated
};

// At startup: when the store's catalog is empty, generates it and loads it in one
// transaction (search index built after the rows). Idempotent.
Result<EnsureCatalogOutcome> ensure_catalog(MusicStore& store, const CatalogOptions& options);

}  // namespace stagepass::music

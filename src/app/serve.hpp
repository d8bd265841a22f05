// `stagepass serve`: the composition root. Chooses the store, builds the services, registers
// routes, runs the HTTP server until SIGINT/SIGTERM and shuts down gracefully.
#pragma once

#include "app/config.hpp"

namespace stagepass {
int serve(const Config& cfg, bool demo);
}  // namespace stagepass

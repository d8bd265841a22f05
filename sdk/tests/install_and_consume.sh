#!/usr/bin/env bash
# Installs the SDK from BUILD_DIR into a temporary prefix, then configures and builds
# EXAMPLE_DIR on its own with find_package(Stagepass), and runs the result's usage check.
set -euo pipefail
build=$1 example=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/stagepass/client.hpp"
test -x "$tmp/prefix/bin/stagepass-cli"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -G Ninja -S "$example" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" "${launcher[@]}" >/dev/null
cmake --build "$tmp/build" >/dev/null
# A wrong flag must give the usage line and exit code 2: the program was built and runs.
set +e
"$tmp/build/now-playing" --bogus 2>"$tmp/err"
rc=$?
set -e
test "$rc" -eq 2
grep -q "usage: now-playing" "$tmp/err"
echo "installed SDK consumed by a standalone build: ok"

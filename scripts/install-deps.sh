#!/usr/bin/env bash
# Installs the Debian packages Stagepass needs, skipping those already present.
# Usage: scripts/install-deps.sh [build|unit|test|microbench|bench|asan]...  (build is always
# included)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

pkgs=(cmake ninja-build g++ pkg-config ccache
      libboost1.81-dev libboost-json1.81-dev libssl-dev libsodium-dev libsqlite3-dev libpq-dev
      libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libkainjow-mustache-dev
      libcurl4-openssl-dev libsecret-1-dev)
for extra in "$@"; do
  case "$extra" in
    build) ;;
    test) pkgs+=(clang-format libgtest-dev libgmock-dev nodejs npm python3 python3-authlib python3-requests curl sqlite3
                 chromium
                 # sdk/tests/with_keyring.sh: a real Secret Service in a private D-Bus session
                 gnome-keyring dbus-daemon libsecret-tools libglib2.0-bin
                 # scripts/pg-test-server.sh: a throw-away PostgreSQL 15 for the store tests
                 postgresql-15
                 # tests/e2e/cluster.test.mjs: the load balancer in front of several nodes
                 haproxy) ;;
    # GoogleTest alone: configuring a tree with the unit tests on (make fuzz's shared tree).
    unit) pkgs+=(libgtest-dev libgmock-dev) ;;
    # make bench-smoke (CI): bench/ compiled, the microbenchmarks run once, the harness
    # byte-compiled; no load test.
    microbench) pkgs+=(libbenchmark-dev python3) ;;
    # make bench: the above, the load generator, the picture (results.png, gnuplot) and Node
    # for the oidc-provider peer (bench/peers/oidc-provider: npm ci).
    bench) pkgs+=(libbenchmark-dev python3 wrk gnuplot-nox nodejs npm) ;;
    # make test-asan and make fuzz: clang 14 with its sanitizer and libFuzzer runtimes, and
    # llvm-symbolizer (package llvm) so reports name functions and lines; lld links faster.
    asan) pkgs+=(clang libclang-rt-14-dev llvm lld) ;;
    *) echo "install-deps: unknown set '$extra'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  # Node may come from outside Debian (e.g. /usr/bin/node already present): do not fight it.
  if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# Issue 6: the side-by-side harness. Builds Release with the benchmarks, then for every
# scenario x server: starts the server on 127.0.0.1, prepares what the scenario consumes,
# runs one wrk warm-up and RUNS measured wrk runs, and measures the server's CPU time per
# request (utime+stime from /proc/PID/stat around each measured run) and its peak RSS
# (VmHWM from /proc/PID/status before it is stopped). Writes $BUILD_DIR/results.md,
# $BUILD_DIR/results.json (every run, plus the settings) and, when gnuplot is installed,
# $BUILD_DIR/results.png; wrk's own reports go to $BUILD_DIR/results-wrk.log.
#
# Usage: bench/run.sh [--no-build] [--quick] [--only SCENARIO[,...]] [--servers SERVER[,...]]
#                     [--runs N] [--rounds N] [--data-dir DIR] [--keep-data]
#                     [--growth SIZE[,...]]
#   --no-build      use the binaries already in $BUILD_DIR
#   --quick         1 measured run of 3 s after a 1 s warm-up (WRK_* variables still win)
#   --only          scenarios (names or numbers): 1 cc, 2 refresh, 3 code, 4 me-warm,
#                   5 me-cold, 6 introspect, 7 mixed, 8 login-storm
#   --servers       hello, stagepass, glewlwyd, glewlwyd-1k, oidc-jwt, oidc-opaque;
#                   "peers" = the last four, "oidc" = both oidc-provider modes
#   --runs N        measured runs per scenario and server (default 3)
#   --rounds N      go through the whole matrix N times (default 1), each time with a fresh
#                   server, a warm-up and --runs runs; rows aggregate every round. With
#                   `--rounds 3 --runs 1` the servers of a scenario take turns, so a machine
#                   whose speed drifts over minutes moves all of them alike (the ratios)
#   --data-dir DIR  where the databases live (stagepass's and glewlwyd's alike): a fresh
#                   directory is made inside DIR and removed at the end (default
#                   $BUILD_DIR/bench-data, on the build's disk; /dev/shm for tmpfs)
#   --keep-data     keep that directory (databases, pools, logs) for inspection
#   --growth SIZES  a growth run instead: stagepass only, for each size (10k, 1m, 10m, or a
#                   number) a store first filled with that many refresh tokens (ten per
#                   grant) by the seed tool, then the scenarios of --only (default
#                   cc,refresh,code,me-cold,introspect,mixed); GROWTH_CACHE_MIB (8192) is
#                   the filler's page cache
# Environment (defaults): BUILD_DIR=build-bench WRK_THREADS=2 WRK_CONNECTIONS=64
#   WRK_DURATION=10s WRK_WARMUP=2s RUNS=3 INTROSPECT_POOL=200 LOGIN_CONNECTIONS=4
#   MIXED_TOKENS=10000 POOL_FACTOR=1.5
# See bench/README.md (Performance) for what each column means.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build-bench}
export BENCH_DIR="$ROOT/bench"  # lets the wrk scripts find summary.lua and pool.lua

ALL_SCENARIOS=(cc refresh code me-warm me-cold introspect mixed login-storm)
ALL_SERVERS=(hello stagepass glewlwyd glewlwyd-1k oidc-jwt oidc-opaque)
# What a growth run measures unless --only says otherwise: the scenarios that read or write
# the stored tokens and grants (me-warm and the login storm hit caches and Argon2id).
GROWTH_SCENARIOS=cc,refresh,code,me-cold,introspect,mixed
# Which servers take part in which scenario. hello is the HTTP ceiling: it answers 200
# "hello" to the same requests (a POST form for cc, a GET with a bearer token for me-warm).
declare -A MATRIX=(
  [cc]="hello stagepass glewlwyd glewlwyd-1k oidc-jwt oidc-opaque"
  [refresh]="stagepass"
  [code]="stagepass"
  [me-warm]="hello stagepass"
  [me-cold]="stagepass"
  [introspect]="stagepass glewlwyd glewlwyd-1k oidc-opaque"
  [mixed]="stagepass"
  [login-storm]="stagepass"
)

usage() {
  sed -n '/^# Usage:/,/^# See bench/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build=1 quick=0 keep=0 only="" servers="" runs="" rounds=1 data_parent="" growth=""
while (($#)); do
  case $1 in
    --no-build) build=0 ;;
    --quick) quick=1 ;;
    --keep-data) keep=1 ;;
    --only) only=${2:?--only needs a list}; shift ;;
    --only=*) only=${1#*=} ;;
    --servers) servers=${2:?--servers needs a list}; shift ;;
    --servers=*) servers=${1#*=} ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --runs=*) runs=${1#*=} ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift ;;
    --rounds=*) rounds=${1#*=} ;;
    --data-dir) data_parent=${2:?--data-dir needs a directory}; shift ;;
    --data-dir=*) data_parent=${1#*=} ;;
    --growth) growth=${2:?--growth needs a list of sizes}; shift ;;
    --growth=*) growth=${1#*=} ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done

if ((quick)); then
  WRK_DURATION=${WRK_DURATION:-3s}
  WRK_WARMUP=${WRK_WARMUP:-1s}
  RUNS=${runs:-${RUNS:-1}}
  INTROSPECT_POOL=${INTROSPECT_POOL:-50}
  MIXED_TOKENS=${MIXED_TOKENS:-2000}
fi
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_WARMUP=${WRK_WARMUP:-2s}
RUNS=${runs:-${RUNS:-3}}
INTROSPECT_POOL=${INTROSPECT_POOL:-200}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-4}
MIXED_TOKENS=${MIXED_TOKENS:-10000}
POOL_FACTOR=${POOL_FACTOR:-1.5}
export WRK_THREADS  # pool.lua slices the pools by it
for var in rounds RUNS WRK_THREADS WRK_CONNECTIONS INTROSPECT_POOL LOGIN_CONNECTIONS MIXED_TOKENS; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: $var must be a positive integer" >&2; exit 2; }
done
[[ $POOL_FACTOR =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "run.sh: POOL_FACTOR must be a number" >&2; exit 2; }

die() { echo "run.sh: $*" >&2; exit 1; }
say() { echo "run.sh: $*" >&2; }

# seconds "10s" | "1m" | "500ms" | "7": the number of seconds, for sizing the pools.
seconds() {
  local d=$1
  case $d in
    *ms) echo $(((${d%ms} + 999) / 1000)) ;;
    *s) echo "${d%s}" ;;
    *m) echo $((${d%m} * 60)) ;;
    *h) echo $((${d%h} * 3600)) ;;
    *) echo "$d" ;;
  esac
}
DUR_S=$(seconds "$WRK_DURATION")
WARM_S=$(seconds "$WRK_WARMUP")

# Growth sizes: 10k, 1m, 250000...
growth_sizes=()
if [[ -n $growth ]]; then
  IFS=, read -ra wanted <<<"$growth"
  for g in "${wanted[@]}"; do
    case ${g,,} in
      *k) n=${g%[kK]} mult=1000 ;;
      *m) n=${g%[mM]} mult=1000000 ;;
      *) n=$g mult=1 ;;
    esac
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad growth size '$g'" >&2; exit 2; }
    growth_sizes+=($((n * mult)))
  done
  [[ -n $only ]] || only=$GROWTH_SCENARIOS
fi
GROWTH_CACHE_MIB=${GROWTH_CACHE_MIB:-8192}

# Scenario list: names or numbers.
scenarios=()
if [[ -n $only ]]; then
  IFS=, read -ra wanted <<<"$only"
  for s in "${wanted[@]}"; do
    if [[ $s =~ ^[1-8]$ ]]; then s=${ALL_SCENARIOS[$((s - 1))]}; fi
    [[ -n ${MATRIX[$s]+x} ]] || die "unknown scenario '$s' (${ALL_SCENARIOS[*]})"
    scenarios+=("$s")
  done
else
  scenarios=("${ALL_SCENARIOS[@]}")
fi
server_filter=" ${ALL_SERVERS[*]} "
if [[ -n $servers ]]; then
  server_filter=" "
  IFS=, read -ra wanted <<<"$servers"
  for s in "${wanted[@]}"; do
    case $s in
      peers) server_filter+="glewlwyd glewlwyd-1k oidc-jwt oidc-opaque " ;;
      oidc) server_filter+="oidc-jwt oidc-opaque " ;;
      hello | stagepass | glewlwyd | glewlwyd-1k | oidc-jwt | oidc-opaque) server_filter+="$s " ;;
      *) die "unknown server '$s' (${ALL_SERVERS[*]}, peers, oidc)" ;;
    esac
  done
fi

if ((build)); then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSTAGEPASS_BENCH=ON \
    -DSTAGEPASS_TESTS=OFF
  cmake --build "$BUILD_DIR"
fi
HELLO_BIN="$ROOT/$BUILD_DIR/stagepass-bench-hello"
STAGEPASS_BIN="$ROOT/$BUILD_DIR/stagepass"
SEED_BIN="$ROOT/$BUILD_DIR/stagepass-bench-seed"
for bin in "$HELLO_BIN" "$STAGEPASS_BIN" "$SEED_BIN"; do
  [[ -x $bin ]] || die "$bin not found (build first, or drop --no-build)"
done
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"

data_parent=${data_parent:-$BUILD_DIR/bench-data}
mkdir -p "$data_parent"
WORK=$(cd "$(mktemp -d "$data_parent/run.XXXXXX")" && pwd)
RESULTS="$WORK/results.jsonl"  # one JSON object per line: runs, warm-ups, servers, skips
: >"$RESULTS"
WRK_LOG="$ROOT/$BUILD_DIR/results-wrk.log"
: >"$WRK_LOG"
cleanup() {
  if ((keep)); then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
FSTYPE=$(df --output=fstype "$WORK" | tail -n 1 | tr -d ' ')
CLK_TCK=$(getconf CLK_TCK)

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# alive PID: the process runs and is not a zombie waiting to be reaped.
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [[ -n $state && $state != Z* ]]
}

# cpu_ticks PID: utime + stime of the whole process (all its threads), in clock ticks.
# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that closes the command name.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || die "PID $1 is gone: no CPU time to read"
  awk '{ print $12 + $13 }' <<<"${stat##*) }"
}
peak_rss_kb() {
  local kb
  kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
  [[ -n $kb ]] || die "PID $1 is gone: no peak RSS to read"
  echo "$kb"
}

# jget FILE KEY: one top-level field of a JSON file (the last line holding an object).
jget() {
  python3 - "$1" "$2" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.lstrip().startswith("{")]
v = json.loads(lines[-1]).get(sys.argv[2])
print("" if v is None else v)
PY
}

# record JSON-OBJECT: appends one line to the results.
record() { printf '%s\n' "$1" >>"$RESULTS"; }

# Share of CPU time idle over one second, as run-quick.sh.
cpu_idle_percent() {
  local a b c idle1 e f g total1 idle2 total2
  read -r _ a b c idle1 e f g _ </proc/stat
  total1=$((a + b + c + idle1 + e + f + g))
  sleep 1
  read -r _ a b c idle2 e f g _ </proc/stat
  total2=$((a + b + c + idle2 + e + f + g))
  echo $((100 * (idle2 - idle1) / (total2 - total1)))
}

# ---------------------------------------------------------------------------------------
# Servers. Each (scenario, server) pair runs in its own subshell: it starts the server,
# sets SERVER_PID (and STOP_KIND), and its EXIT trap stops that server whatever happens.

SERVER_PID="" STOP_KIND="" GLEWLWYD_DIR="" WRK_PID="" STORM_PID=""

stop_server() {
  local p
  for p in $WRK_PID $STORM_PID; do  # load generators still running (an interrupted run)
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  WRK_PID="" STORM_PID=""
  [[ -n $SERVER_PID ]] || return 0
  local pid=$SERVER_PID
  SERVER_PID=""
  if [[ $STOP_KIND == glewlwyd ]]; then
    "$BENCH_DIR/peers/glewlwyd.sh" stop "$GLEWLWYD_DIR" >&2 || true
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "PID $pid still alive 10 s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# wait_ok URL LOG: waits up to 30 s for URL to answer 200 while the server lives.
wait_ok() {
  for _ in $(seq 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
    if ! alive "$SERVER_PID"; then
      tail -n 20 "$2" >&2
      die "server exited before $1 answered 200"
    fi
    sleep 0.1
  done
  tail -n 20 "$2" >&2
  die "$1 did not answer 200 within 30 s"
}

SP_PORT=$(free_port)
SP_URL="http://127.0.0.1:$SP_PORT"
# sp_use_dir DIR: the stagepass data directory of what follows (one for the whole run; one
# per size in a growth run).
sp_use_dir() {
  SP_DIR=$1
  SP_ENV=(
    "STAGEPASS_LISTEN=127.0.0.1:$SP_PORT"
    "STAGEPASS_ISSUER=$SP_URL"
    "STAGEPASS_DATABASE=$SP_DIR/stagepass.db"
    "STAGEPASS_MASTER_KEY_FILE=$SP_DIR/master.key"
    "STAGEPASS_ACCESS_LOG=off"
    "STAGEPASS_CATALOG_SCALE=0.02"
    "STAGEPASS_RATE_LIMIT=1000000000"
    "STAGEPASS_CODE_TTL=3600"  # seeded codes wait for their run
  )
}
sp_use_dir "$WORK/stagepass"
REDIRECT_URI="http://127.0.0.1:9/cb"

# The seed tool with the server's settings; prints its JSON line.
seed() { env "${SP_ENV[@]}" "$SEED_BIN" --client-id "$CLIENT_ID" "$@"; }

start_stagepass() {
  mkdir -p "$SP_DIR"
  env "${SP_ENV[@]}" "$STAGEPASS_BIN" serve >>"$SP_DIR/serve.log" 2>&1 &
  SERVER_PID=$! STOP_KIND=pid
  wait_ok "$SP_URL/healthz" "$SP_DIR/serve.log"
  # One confidential client for the whole run (the database outlives the restarts).
  if [[ ! -f $SP_DIR/client.json ]]; then
    env "${SP_ENV[@]}" "$STAGEPASS_BIN" admin client create --name bench \
      --redirect-uri "$REDIRECT_URI" --json >"$SP_DIR/client.json.tmp"
    mv "$SP_DIR/client.json.tmp" "$SP_DIR/client.json"
  fi
  CLIENT_ID=$(jget "$SP_DIR/client.json" client_id)
  CLIENT_SECRET=$(jget "$SP_DIR/client.json" client_secret)
  export CLIENT_ID CLIENT_SECRET
  BASE_URL=$SP_URL TOKEN_PATH=/api/token INTROSPECT_PATH=/api/introspect SCOPE=""
  TOKEN_URL="$SP_URL/api/token"
  [[ -z ${GROWTH_SIZE:-} ]] || fill_stagepass
  record "$(python3 -c 'import json,sys; print(json.dumps({"type": "server", "server": "stagepass",
    "storage": "SQLite (WAL, synchronous=FULL: an fsync per commit) in " + sys.argv[1] + " (" + sys.argv[2] + ")",
    "notes": "client secret: SHA-256; refresh tokens and codes stored hashed; access tokens EdDSA JWTs (not stored)"}))' "$SP_DIR" "$FSTYPE")"
}

# fill_stagepass: a growth run's store gets GROWTH_SIZE refresh tokens (ten per grant and
# user) once, straight through the store layer, before its first scenario; every pair then
# records how many refresh tokens the store holds when it starts (the scenarios' own pools
# come on top).
fill_stagepass() {
  if [[ ! -f $SP_DIR/filled.json ]]; then
    say "growth: filling $SP_DIR with $GROWTH_SIZE refresh tokens"
    seed --refresh "$GROWTH_SIZE" --refresh-out /dev/null --per-grant 10 --no-profiles \
      --batch 100000 --cache-mib "$GROWTH_CACHE_MIB" >"$SP_DIR/filled.json" ||
      die "filling the store failed"
    record "$(python3 -c 'import json,os,sys; r = json.load(open(sys.argv[1])); print(json.dumps({"type": "fill", "size": int(sys.argv[2]),
      "seconds": r["seconds"], "database_bytes": os.path.getsize(sys.argv[3])}))' \
      "$SP_DIR/filled.json" "$GROWTH_SIZE" "$SP_DIR/stagepass.db")"
  fi
  STORED_REFRESH=$(python3 -c 'import sqlite3,sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=30)
print(db.execute("SELECT count(*) FROM refresh_tokens").fetchone()[0])' "$SP_DIR/stagepass.db")
  export STORED_REFRESH
}

start_hello() {
  local port
  port=$(free_port)
  "$HELLO_BIN" --listen "127.0.0.1:$port" >"$WORK/hello.log" 2>&1 &
  SERVER_PID=$! STOP_KIND=pid
  BASE_URL="http://127.0.0.1:$port"
  wait_ok "$BASE_URL/" "$WORK/hello.log"
  export CLIENT_ID=bench CLIENT_SECRET=bench
  TOKEN_PATH=/api/token SCOPE=""
  record '{"type": "server", "server": "hello", "storage": "none", "notes": "bare Boost.Beast server, same I/O model as stagepass, answers 200 \"hello\" to every request: the HTTP ceiling"}'
}

start_glewlwyd() {  # start_glewlwyd ITERATIONS|""
  local port out
  port=$(free_port)
  GLEWLWYD_DIR="$WORK/glewlwyd"
  out="$WORK/glewlwyd.json"
  GLEWLWYD_PBKDF2_ITERATIONS=$1 "$BENCH_DIR/peers/glewlwyd.sh" start "$port" "$GLEWLWYD_DIR" >"$out" ||
    die "glewlwyd did not start (see $GLEWLWYD_DIR/glewlwyd.log)"
  SERVER_PID=$(jget "$out" pid) STOP_KIND=glewlwyd
  BASE_URL=$(jget "$out" base_url) TOKEN_PATH=$(jget "$out" token_path) SCOPE=$(jget "$out" scope)
  TOKEN_URL=$(jget "$out" token_url)
  INTROSPECT_PATH=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).path)' "$(jget "$out" introspection_url)")
  CLIENT_ID=$(jget "$out" client_id) CLIENT_SECRET=$(jget "$out" client_secret)
  export CLIENT_ID CLIENT_SECRET
  local iterations
  iterations=$(jget "$out" pbkdf2_iterations)
  record "$(python3 -c 'import json,sys; print(json.dumps({"type": "server", "server": sys.argv[1],
    "storage": "SQLite (autocommit: an fsync per token insert) in " + sys.argv[2] + " (" + sys.argv[3] + ")",
    "notes": "Debian glewlwyd " + sys.argv[5] + "; client secret: PBKDF2 " + sys.argv[4] + " iterations; access tokens EdDSA JWTs, each also stored"}))' \
    "$CURRENT_SERVER" "$GLEWLWYD_DIR/glewlwyd.db" "$FSTYPE" "$iterations" \
    "$(dpkg-query -W -f='${Version}' glewlwyd 2>/dev/null || echo '?')")"
}

start_oidc() {  # start_oidc jwt|opaque
  local port out dir="$BENCH_DIR/peers/oidc-provider"
  if [[ ! -d $dir/node_modules/oidc-provider ]]; then
    say "installing oidc-provider (npm ci in $dir)"
    (cd "$dir" && npm ci --no-audit --no-fund >&2) || die "npm ci failed in $dir"
  fi
  port=$(free_port)
  out="$WORK/oidc-$1.json"
  : >"$out"
  node "$dir/server.mjs" "$port" "$1" >"$out" 2>"$WORK/oidc-$1.log" &
  SERVER_PID=$! STOP_KIND=pid
  for _ in $(seq 300); do
    [[ -s $out ]] && break
    alive "$SERVER_PID" || { cat "$WORK/oidc-$1.log" >&2; die "oidc-provider exited"; }
    sleep 0.1
  done
  [[ -s $out ]] || die "oidc-provider did not print its JSON line within 30 s"
  BASE_URL=$(jget "$out" base_url) TOKEN_PATH=$(jget "$out" token_path) SCOPE=$(jget "$out" scope)
  TOKEN_URL=$(jget "$out" token_url)
  INTROSPECT_PATH=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).path)' "$(jget "$out" introspection_url)")
  CLIENT_ID=$(jget "$out" client_id) CLIENT_SECRET=$(jget "$out" client_secret)
  export CLIENT_ID CLIENT_SECRET
  record "$(python3 -c 'import json,sys; print(json.dumps({"type": "server", "server": sys.argv[1],
    "storage": "in memory only (development LRU adapter, 1000 entries; nothing survives a restart)",
    "notes": "oidc-provider " + sys.argv[2] + " on Node " + sys.argv[3] + "; client secret compared in plaintext; " +
      ("access tokens EdDSA JWTs, not stored" if sys.argv[4] == "jwt" else "opaque access tokens in the LRU")}))' \
    "$CURRENT_SERVER" "$(jget "$out" version)" "$(node --version)" "$1")"
}

start_server() {
  case $1 in
    hello) start_hello ;;
    stagepass) start_stagepass ;;
    glewlwyd) start_glewlwyd "" ;;
    glewlwyd-1k) start_glewlwyd 1000 ;;
    oidc-jwt) start_oidc jwt ;;
    oidc-opaque) start_oidc opaque ;;
  esac
}

# ---------------------------------------------------------------------------------------
# Measurement.

# expect_status CODE CURL-ARGS...: one request by hand before a load (a benchmark of
# errors would measure nothing).
expect_status() {
  local want=$1 code
  shift
  code=$(curl -s -o "$WORK/probe.out" -w '%{http_code}' "$@" || echo 000)
  [[ $code == "$want" ]] || die "probe answered $code, not $want: $(head -c 300 "$WORK/probe.out")"
}

# wrk_phase PHASE DURATION: runs wrk with $WRK_SCRIPT on $WRK_URL (and the login storm beside
# it when STORM=1), and appends the run (wrk's summary, the server's CPU seconds) to the
# results. Sets LAST_RPS and LAST_EXHAUSTED.
wrk_phase() {
  local phase=$1 dur=$2 out="$WORK/wrk.json" storm_pid="" cpu0 cpu1
  local args=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$dur" -s "$WRK_SCRIPT" "$WRK_URL")
  echo "== $CURRENT_SCENARIO / $CURRENT_SERVER / $phase: wrk ${args[*]}" | tee -a "$WRK_LOG" >&2
  if ((${STORM:-0})); then
    # The sign-in storm, from its own wrk process, for the same duration.
    WRK_THREADS=1 wrk -t1 -c"$LOGIN_CONNECTIONS" -d"$dur" -s "$BENCH_DIR/wrk/login.lua" \
      "$BASE_URL" >"$WORK/storm.out" 2>&1 &
    storm_pid=$! STORM_PID=$!
  fi
  cpu0=$(cpu_ticks "$SERVER_PID")
  # In the background and waited for: a Ctrl-C then runs the subshell's INT trap (wrk
  # catches SIGINT and exits normally, after which bash would not act on the signal).
  wrk "${args[@]}" >"$WORK/wrk.out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || true
  WRK_PID=""
  alive "$SERVER_PID" || die "the server exited during the run"
  cpu1=$(cpu_ticks "$SERVER_PID")
  grep '^{' "$WORK/wrk.out" | tail -n 1 >"$out" ||
    die "wrk printed no summary for $CURRENT_SCENARIO/$CURRENT_SERVER: $(tail -n 5 "$WORK/wrk.out")"
  local storm_json=null
  if [[ -n $storm_pid ]]; then
    wait "$storm_pid" || true
    STORM_PID=""
    {
      echo "-- login storm beside it: wrk -t1 -c$LOGIN_CONNECTIONS -d$dur -s login.lua"
      cat "$WORK/storm.out"
    } >>"$WORK/wrk.out"
    storm_json=$(grep '^{' "$WORK/storm.out" | tail -n 1 || true)
    [[ -n $storm_json ]] || die "the login storm's wrk printed no summary: $(tail -n 5 "$WORK/storm.out")"
  fi
  cat "$WORK/wrk.out" >>"$WRK_LOG"
  local line
  line=$(python3 - "$out" "$CURRENT_SCENARIO" "$CURRENT_SERVER" "$phase" "$((cpu1 - cpu0))" \
    "$CLK_TCK" "${POOL_SIZE:-0}" "$storm_json" <<'PY'
import json, os, sys
out, scenario, server, phase, ticks, tck, pool, storm = sys.argv[1:9]
r = json.load(open(out))
r.update({"type": "warmup" if phase == "warmup" else "run", "scenario": scenario,
          "server": server, "phase": phase, "cpu_s": int(ticks) / int(tck),
          "pool_size": int(pool)})
if os.environ.get("GROWTH_SIZE"):
    r["size"] = int(os.environ["GROWTH_SIZE"])
    r["stored_refresh_tokens"] = int(os.environ["STORED_REFRESH"])
r["cpu_us_per_request"] = 1e6 * r["cpu_s"] / r["requests"] if r["requests"] else None
if storm != "null":
    r["login_storm"] = json.loads(storm)
print(json.dumps(r))
PY
  )
  record "$line"
  LAST_RPS=$(jget "$out" rps)
  LAST_EXHAUSTED=$(jget "$out" pool_exhausted)
  local non2xx
  non2xx=$(jget "$out" non_2xx)
  if ((non2xx > 0 || LAST_EXHAUSTED > 0)); then
    say "warning: $CURRENT_SCENARIO/$CURRENT_SERVER $phase: $non2xx non-2xx, $LAST_EXHAUSTED pool-exhausted requests"
  fi
}

# pool_for RPS SECONDS [SHARE]: how many single-use values a phase needs: the rate times the
# duration times POOL_FACTOR (times SHARE, the fraction of requests that use the pool), plus
# some slack for the requests in flight when wrk stops.
pool_for() {
  python3 -c 'import math, sys
rps, secs, factor, share = map(float, sys.argv[1:5])
print(int(math.ceil(rps * secs * factor * share)) + 2 * int(sys.argv[5]))' \
    "$1" "$2" "$POOL_FACTOR" "${3:-1}" "$WRK_CONNECTIONS"
}

# next_estimate RPS EXHAUSTED OLD FLOOR: the rate the next pool is sized for: the last
# phase's, never below FLOOR (the scenario's first guess: a short warm-up on a busy machine
# can be much slower than the runs after it). A phase that ran dry measured partly cheap
# refusals: twice the larger of it and the previous estimate.
next_estimate() {
  python3 -c 'import sys
rps, exhausted, old, floor = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(round(2 * max(rps, old)) if exhausted else round(max(rps, floor)))' "$1" "$2" "$3" "$4"
}

# mark_last_retried: the last run recorded does not count (its pool ran out).
mark_last_retried() {
  python3 - "$RESULTS" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
last = json.loads(lines[-1])
last["type"] = "retried"
lines[-1] = json.dumps(last)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
}

# prepare_pool PHASE-SECONDS: seeds what one phase of a single-use scenario consumes (a new
# file each time) and points the wrk script at it. Uses and sets EST (the expected rate).
prepare_pool() {
  local secs=$1 file="$WORK/pool.txt" json
  rm -f "$WORK"/pool*.txt
  case $CURRENT_SCENARIO in
    refresh)
      POOL_SIZE=$(pool_for "$EST" "$secs")
      json=$(seed --refresh "$POOL_SIZE" --refresh-out "$file") || die "seeding failed"
      export POOL_FILE=$file ;;
    code)
      POOL_SIZE=$(pool_for "$EST" "$secs")
      json=$(seed --codes "$POOL_SIZE" --codes-out "$file" --redirect-uri "$REDIRECT_URI") ||
        die "seeding failed"
      export POOL_FILE=$file REDIRECT_URI
      CODE_VERIFIER=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pkce_verifier"])' "$json")
      export CODE_VERIFIER ;;
    me-cold)
      POOL_SIZE=$(pool_for "$EST" "$secs")
      # Ten tokens per person: every token is still presented once.
      json=$(seed --access "$POOL_SIZE" --access-out "$file" --per-grant 10) || die "seeding failed"
      export POOL_FILE=$file ;;
    mixed)
      # Sized for the refreshes (9 %) and new authorizations (1 %); the API tokens were
      # seeded once for the scenario.
      local refresh codes
      refresh=$(pool_for "$EST" "$secs" 0.09)
      codes=$(pool_for "$EST" "$secs" 0.01)
      POOL_SIZE=$((refresh + codes))
      json=$(seed --refresh "$refresh" --refresh-out "$WORK/pool-refresh.txt" \
        --codes "$codes" --codes-out "$WORK/pool-codes.txt" --redirect-uri "$REDIRECT_URI") ||
        die "seeding failed"
      export REFRESH_FILE="$WORK/pool-refresh.txt" CODE_FILE="$WORK/pool-codes.txt" REDIRECT_URI
      CODE_VERIFIER=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pkce_verifier"])' "$json")
      export CODE_VERIFIER ;;
  esac
  say "$CURRENT_SCENARIO: seeded $POOL_SIZE for ~$EST req/s over ${secs}s: $json"
}

# Checks by hand that what the seed tool makes is accepted, with values of their own (a
# probe must not spend a pool value: a code used twice revokes its grant).
probe_stagepass_seed() {
  local json verifier dir="$WORK/probe"
  mkdir -p "$dir"
  json=$(seed --refresh 1 --refresh-out "$dir/r" --codes 1 --codes-out "$dir/c" \
    --redirect-uri "$REDIRECT_URI" --access 1 --access-out "$dir/a") || die "seeding failed"
  verifier=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pkce_verifier"])' "$json")
  expect_status 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=refresh_token \
    --data-urlencode "refresh_token=$(cat "$dir/r")" "$SP_URL/api/token"
  expect_status 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=authorization_code \
    --data-urlencode "code=$(cat "$dir/c")" --data-urlencode "redirect_uri=$REDIRECT_URI" \
    --data-urlencode "code_verifier=$verifier" "$SP_URL/api/token"
  expect_status 200 -H "Authorization: Bearer $(cat "$dir/a")" "$SP_URL/v1/me"
}

# run_pair SCENARIO SERVER: everything for one row of the table, in the current (sub)shell.
run_pair() {
  CURRENT_SCENARIO=$1 CURRENT_SERVER=$2
  local scen=$1 server=$2 single_use=0
  start_server "$server"
  STORM=0 POOL_SIZE=0
  case $scen in
    cc)
      expect_status 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials \
        ${SCOPE:+--data-urlencode "scope=$SCOPE"} "$BASE_URL$TOKEN_PATH"
      export TOKEN_PATH SCOPE
      WRK_SCRIPT="$BENCH_DIR/peers/client_credentials.lua" WRK_URL=$BASE_URL ;;
    refresh | code | me-cold)
      probe_stagepass_seed
      single_use=1
      case $scen in
        refresh) WRK_SCRIPT="$BENCH_DIR/wrk/refresh.lua" WRK_URL=$BASE_URL EST=8000 ;;
        code) WRK_SCRIPT="$BENCH_DIR/wrk/code_exchange.lua" WRK_URL=$BASE_URL EST=8000 ;;
        me-cold) WRK_SCRIPT="$BENCH_DIR/wrk/bearer_pool.lua" WRK_URL=$BASE_URL/v1/me EST=15000 ;;
      esac ;;
    me-warm | login-storm)
      if [[ $server == hello ]]; then
        export TOKEN=not-checked-by-hello
      else
        seed --access 1 --access-out "$WORK/token.txt" >/dev/null || die "seeding failed"
        TOKEN=$(cat "$WORK/token.txt")
        export TOKEN
        expect_status 200 -H "Authorization: Bearer $TOKEN" "$BASE_URL/v1/me"
      fi
      WRK_SCRIPT="$BENCH_DIR/wrk/get.lua" WRK_URL=$BASE_URL/v1/me
      if [[ $scen == login-storm ]]; then
        # Sign-ins of seeded people (one Argon2id hash each time), with a CSRF pair read
        # from the sign-in page (stateless: the pair stays valid).
        local users_json
        users_json=$(seed --access 100 --access-out /dev/null --users-out "$WORK/emails.txt") ||
          die "seeding failed"
        export PASSWORD
        PASSWORD=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["password"])' "$users_json")
        curl -s -c "$WORK/jar" -o "$WORK/login.html" "$BASE_URL/login"
        CSRF_TOKEN=$(grep -o 'name="csrf_token" value="[^"]*"' "$WORK/login.html" | sed 's/.*value="//; s/"$//')
        CSRF_COOKIE=$(awk '$6 == "sp_csrf" { print $7 }' "$WORK/jar")
        [[ -n $CSRF_TOKEN && -n $CSRF_COOKIE ]] || die "no CSRF pair from GET /login"
        export CSRF_TOKEN CSRF_COOKIE POOL_FILE="$WORK/emails.txt"
        expect_status 303 -b "sp_csrf=$CSRF_COOKIE" --data-urlencode "csrf_token=$CSRF_TOKEN" \
          --data-urlencode "username=$(head -n 1 "$WORK/emails.txt")" \
          --data-urlencode "password=$PASSWORD" "$BASE_URL/login"
        STORM=1
      fi ;;
    introspect)
      local tokens="$WORK/introspect-tokens.txt"
      say "introspect: minting $INTROSPECT_POOL access tokens from $server's token endpoint"
      python3 "$BENCH_DIR/mint_tokens.py" "$BASE_URL$TOKEN_PATH" "$CLIENT_ID" "$CLIENT_SECRET" \
        "$INTROSPECT_POOL" "$tokens" "$SCOPE" || die "minting failed"
      expect_status 200 -u "$CLIENT_ID:$CLIENT_SECRET" \
        --data-urlencode "token=$(head -n 1 "$tokens")" "$BASE_URL$INTROSPECT_PATH"
      grep -Eq '"active" *: *true' "$WORK/probe.out" ||
        die "introspection of a fresh token is not active: $(head -c 300 "$WORK/probe.out")"
      export POOL_FILE=$tokens POOL_MODE=cycle INTROSPECT_PATH
      WRK_SCRIPT="$BENCH_DIR/wrk/introspect.lua" WRK_URL=$BASE_URL ;;
    mixed)
      probe_stagepass_seed
      single_use=1 EST=20000
      seed --access "$MIXED_TOKENS" --access-out "$WORK/mixed-tokens.txt" --per-grant 1 >/dev/null ||
        die "seeding failed"
      export TOKEN_FILE="$WORK/mixed-tokens.txt"
      WRK_SCRIPT="$BENCH_DIR/wrk/mixed.lua" WRK_URL=$BASE_URL ;;
  esac

  ((single_use == 0)) || prepare_pool "$WARM_S"
  wrk_phase warmup "$WRK_WARMUP"
  local floor=${EST:-0} tries
  for run in $(seq "$RUNS"); do
    if ((single_use == 0)); then
      wrk_phase "$run" "$WRK_DURATION"
      continue
    fi
    # A run whose pool ran dry partly measured cheap refusals: it is kept in the JSON as
    # "retried" and run again with a pool twice as large (at most twice).
    for tries in 1 2 3; do
      EST=$(next_estimate "$LAST_RPS" "$LAST_EXHAUSTED" "$EST" "$floor")
      prepare_pool "$DUR_S"
      wrk_phase "$run" "$WRK_DURATION"
      ((LAST_EXHAUSTED > 0 && tries < 3)) || break
      say "$scen: the pool ran out: running again with a larger one"
      mark_last_retried
    done
  done
  local rss
  rss=$(peak_rss_kb "$SERVER_PID")
  record "$(python3 -c 'import json,sys; r = {"type": "peak", "scenario": sys.argv[1], "server": sys.argv[2], "peak_rss_kb": int(sys.argv[3])}
if sys.argv[4]: r["size"] = int(sys.argv[4])
print(json.dumps(r))' "$scen" "$server" "$rss" "${GROWTH_SIZE:-}")"
  rm -f "$WORK"/pool*.txt
}

# ---------------------------------------------------------------------------------------

CPU_IDLE_BEFORE=$(cpu_idle_percent)
((CPU_IDLE_BEFORE >= 90)) ||
  say "warning: CPU only $CPU_IDLE_BEFORE% idle before the loads: figures will be low"
say "data in $WORK ($FSTYPE); wrk's reports in $WRK_LOG"

# Each pair runs in a background subshell that the main shell waits for, so a Ctrl-C or a
# SIGTERM reaches this trap at once; it stops the pair (whose EXIT trap stops its server and
# load generators) before the main shell's cleanup.
PAIR_PID=""
on_signal() {
  if [[ -n $PAIR_PID ]]; then
    kill -TERM "$PAIR_PID" 2>/dev/null || true
    wait "$PAIR_PID" 2>/dev/null || true
  fi
  say "interrupted"
  exit 130
}
trap on_signal INT TERM

# one_pair SCENARIO SERVER: run_pair in its own subshell; a failure is recorded, not fatal.
one_pair() {
  local scen=$1 server=$2 status=0
  say "---- $scen / $server${GROWTH_SIZE:+ / $GROWTH_SIZE stored}"
  (
    set -e
    trap stop_server EXIT
    trap 'exit 130' INT TERM
    run_pair "$scen" "$server"
  ) &
  PAIR_PID=$!
  wait "$PAIR_PID" || status=$?
  PAIR_PID=""
  if ((status != 0)); then
    say "$scen / $server failed (status $status); going on"
    record "$(python3 -c 'import json,sys; r = {"type": "failed", "scenario": sys.argv[1], "server": sys.argv[2], "status": int(sys.argv[3])}
if sys.argv[4]: r["size"] = int(sys.argv[4])
print(json.dumps(r))' "$scen" "$server" "$status" "${GROWTH_SIZE:-}")"
  fi
}

if ((${#growth_sizes[@]})); then
  # A growth run: the same stagepass scenarios over stores that already hold more and more.
  for size in "${growth_sizes[@]}"; do
    export GROWTH_SIZE=$size
    sp_use_dir "$WORK/stagepass-$size"
    for round in $(seq "$rounds"); do
      for scen in "${scenarios[@]}"; do one_pair "$scen" stagepass; done
    done
    rm -rf "$SP_DIR"  # the next size starts from an empty store
  done
  unset GROWTH_SIZE
else
  for round in $(seq "$rounds"); do
    ((rounds == 1)) || say "==== round $round of $rounds"
    for scen in "${scenarios[@]}"; do
      for server in ${MATRIX[$scen]}; do
        [[ $server_filter == *" $server "* ]] || continue
        one_pair "$scen" "$server"
      done
    done
  done
fi

GIT_REVISION=$(git describe --always --dirty 2>/dev/null || echo unknown)
python3 "$BENCH_DIR/report.py" "$RESULTS" "$BUILD_DIR" \
  --settings "$(python3 -c 'import json,sys; print(json.dumps({
    "git_revision": sys.argv[1], "cpu_idle_percent_before": int(sys.argv[2]),
    "nproc": int(sys.argv[3]), "wrk": {"threads": int(sys.argv[4]), "connections": int(sys.argv[5]),
    "duration": sys.argv[6], "warmup": sys.argv[7], "runs": int(sys.argv[8]),
    "rounds": int(sys.argv[15])},
    "data_dir_fstype": sys.argv[9], "pool_factor": float(sys.argv[10]),
    "introspect_pool": int(sys.argv[11]), "login_connections": int(sys.argv[12]),
    "mixed_tokens": int(sys.argv[13]), "quick": sys.argv[14] == "1"}))' \
    "$GIT_REVISION" "$CPU_IDLE_BEFORE" "$(nproc)" "$WRK_THREADS" "$WRK_CONNECTIONS" \
    "$WRK_DURATION" "$WRK_WARMUP" "$RUNS" "$FSTYPE" "$POOL_FACTOR" "$INTROSPECT_POOL" \
    "$LOGIN_CONNECTIONS" "$MIXED_TOKENS" "$quick" "$rounds")"

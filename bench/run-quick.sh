#!/usr/bin/env bash
# Issue 2, quick measurement: how close does stagepass's token endpoint get to the HTTP
# ceiling of this machine? Builds Release with the benchmarks, loads the bare Beast
# "hello" server (GET /) and then `stagepass serve` (client credentials grant,
# POST /api/token) with the same wrk settings, on 127.0.0.1 only, and prints a Markdown
# table plus the ratio stagepass/hello; the same figures go to $BUILD_DIR/quick.json.
#
# Usage: bench/run-quick.sh [--no-build] [--hello-only]
#   --no-build    use the binaries already in $BUILD_DIR
#   --hello-only  skip the stagepass scenario
# Environment (defaults): BUILD_DIR=build-bench WRK_THREADS=2 WRK_CONNECTIONS=64
#   WRK_DURATION=10s WRK_WARMUP=2s
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build-bench}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_WARMUP=${WRK_WARMUP:-2s}
export BENCH_DIR="$ROOT/bench"  # lets the wrk scripts find summary.lua

build=1
stagepass=1
for arg in "$@"; do
  case $arg in
    --no-build) build=0 ;;
    --hello-only) stagepass=0 ;;
    *) echo "usage: $0 [--no-build] [--hello-only]" >&2; exit 2 ;;
  esac
done

TMP=$(mktemp -d)
SERVER_PID=""

# alive PID: the process runs and is not a zombie waiting for us to reap it.
alive() {
  local state
  state=$(ps -o stat= -p "$1" || true)
  [[ -n $state && $state != Z* ]]
}

# Stops the server this script started (SIGTERM, then SIGKILL after 10 s) and
# returns its exit status.
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  local pid=$SERVER_PID status=0
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    alive "$pid" || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" || status=$?
  return "$status"
}
cleanup() {
  stop_server || true
  rm -rf "$TMP"
}
trap cleanup EXIT

die() { echo "run-quick: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ok URL LOG: waits up to 15 s for URL to answer 200 while the server lives.
wait_ok() {
  for _ in $(seq 150); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
    if ! alive "$SERVER_PID"; then
      tail -n 20 "$2" >&2
      die "server exited before $1 answered 200"
    fi
    sleep 0.1
  done
  tail -n 20 "$2" >&2
  die "$1 did not answer 200 within 15 s"
}

# measure NAME SCRIPT URL: a warm-up run, then the measured run; the summary line of
# bench/wrk/summary.lua goes to $TMP/NAME.json, wrk's own reports to $WRK_LOG.
measure() {
  local wrk_args=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -s "$2" "$3")
  echo "== $1 warm-up: wrk -d$WRK_WARMUP ${wrk_args[*]}" | tee -a "$WRK_LOG" >&2
  wrk -d"$WRK_WARMUP" "${wrk_args[@]}" >>"$WRK_LOG"
  echo "== $1: wrk -d$WRK_DURATION ${wrk_args[*]}" | tee -a "$WRK_LOG" >&2
  wrk -d"$WRK_DURATION" "${wrk_args[@]}" | tee -a "$WRK_LOG" | grep '^{' >"$TMP/$1.json" ||
    die "wrk printed no summary for $1, see $WRK_LOG"
}

stop_or_warn() {
  local status=0
  stop_server || status=$?
  ((status == 0)) || echo "run-quick: warning: $1 exited with status $status on SIGTERM" >&2
}

if ((build)); then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSTAGEPASS_BENCH=ON \
    -DSTAGEPASS_TESTS=OFF
  cmake --build "$BUILD_DIR"
fi
HELLO_BIN="$BUILD_DIR/stagepass-bench-hello"
STAGEPASS_BIN="$BUILD_DIR/stagepass"
[[ -x $HELLO_BIN ]] || die "$HELLO_BIN not found"
((stagepass == 0)) || [[ -x $STAGEPASS_BIN ]] || die "$STAGEPASS_BIN not found"
# Share of CPU time idle over one second: another build running beside the benchmark
# shows up here (the load average would still count our own build step).
cpu_idle_percent() {
  local a b c idle1 e f g total1 idle2 total2
  read -r _ a b c idle1 e f g _ </proc/stat
  total1=$((a + b + c + idle1 + e + f + g))
  sleep 1
  read -r _ a b c idle2 e f g _ </proc/stat
  total2=$((a + b + c + idle2 + e + f + g))
  echo $((100 * (idle2 - idle1) / (total2 - total1)))
}
CPU_IDLE_BEFORE=$(cpu_idle_percent)
((CPU_IDLE_BEFORE >= 90)) ||
  echo "run-quick: warning: CPU only $CPU_IDLE_BEFORE% idle before the loads: figures will be low" >&2
GIT_REVISION=$(git describe --always --dirty 2>/dev/null || echo unknown)
WRK_LOG="$BUILD_DIR/quick-wrk.log"
: >"$WRK_LOG"

# 1. The HTTP ceiling.
port=$(free_port)
"$HELLO_BIN" --listen "127.0.0.1:$port" >"$TMP/hello.log" 2>&1 &
SERVER_PID=$!
wait_ok "http://127.0.0.1:$port/" "$TMP/hello.log"
unset TOKEN  # get.lua would send it
measure hello "$BENCH_DIR/wrk/get.lua" "http://127.0.0.1:$port/"
stop_or_warn "hello server"

# 2. stagepass, client credentials grant.
if ((stagepass)); then
  port=$(free_port)
  sp_env=(
    "STAGEPASS_LISTEN=127.0.0.1:$port"
    "STAGEPASS_ISSUER=http://127.0.0.1:$port"
    "STAGEPASS_DATABASE=$TMP/db"
    "STAGEPASS_MASTER_KEY_FILE=$TMP/key"
    "STAGEPASS_ACCESS_LOG=off"
    "STAGEPASS_CATALOG_SCALE=0.02"
    "STAGEPASS_RATE_LIMIT=100000000"
  )
  env "${sp_env[@]}" "$STAGEPASS_BIN" serve >"$TMP/stagepass.log" 2>&1 &
  SERVER_PID=$!
  wait_ok "http://127.0.0.1:$port/healthz" "$TMP/stagepass.log"

  env "${sp_env[@]}" "$STAGEPASS_BIN" admin client create --name bench \
    --redirect-uri http://127.0.0.1:9/cb --json >"$TMP/client.json"
  # The last line holding a JSON object, so a log line before it does not matter.
  creds=$(python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.lstrip().startswith("{")]
client = json.loads(lines[-1])
print(client["client_id"]); print(client["client_secret"])' "$TMP/client.json") ||
    die "cannot read client_id/client_secret from: $(cat "$TMP/client.json")"
  CLIENT_ID=$(sed -n 1p <<<"$creds")
  CLIENT_SECRET=$(sed -n 2p <<<"$creds")
  export CLIENT_ID CLIENT_SECRET

  # One grant by hand first: a benchmark of 401s would measure nothing.
  token_url="http://127.0.0.1:$port/api/token"
  code=$(curl -s -o "$TMP/token.json" -w '%{http_code}' -u "$CLIENT_ID:$CLIENT_SECRET" \
    -d grant_type=client_credentials "$token_url")
  [[ $code == 200 ]] || die "POST /api/token answered $code: $(cat "$TMP/token.json")"

  measure stagepass "$BENCH_DIR/wrk/client_credentials.lua" "http://127.0.0.1:$port"

  # 3. GET /v1/me with one valid user token: the verified-token cache answers after the first.
  printf '%s\n' 'bench-password-1' | env "${sp_env[@]}" "$STAGEPASS_BIN" admin user create \
    --email bench@example.com --display-name Bench --password-stdin --json >/dev/null
  TOKEN=$(python3 "$BENCH_DIR/user_token.py" "http://127.0.0.1:$port" "$CLIENT_ID" "$CLIENT_SECRET" \
    bench@example.com bench-password-1) || die "cannot obtain a user token"
  export TOKEN
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/v1/me")
  [[ $code == 200 ]] || die "GET /v1/me answered $code"
  measure me_warm "$BENCH_DIR/wrk/get.lua" "http://127.0.0.1:$port/v1/me"
  stop_or_warn "stagepass serve"

  # 4. The same with the cache disabled: one Ed25519 verification per request.
  env "${sp_env[@]}" STAGEPASS_TOKEN_CACHE_SIZE=0 "$STAGEPASS_BIN" serve >"$TMP/stagepass-nocache.log" 2>&1 &
  SERVER_PID=$!
  wait_ok "http://127.0.0.1:$port/healthz" "$TMP/stagepass-nocache.log"
  measure me_nocache "$BENCH_DIR/wrk/get.lua" "http://127.0.0.1:$port/v1/me"
  stop_or_warn "stagepass serve (no token cache)"
  unset TOKEN
fi

# 3. Report.
CPU_IDLE_BEFORE=$CPU_IDLE_BEFORE GIT_REVISION=$GIT_REVISION WRK_THREADS=$WRK_THREADS WRK_CONNECTIONS=$WRK_CONNECTIONS \
  WRK_DURATION=$WRK_DURATION WRK_WARMUP=$WRK_WARMUP \
  python3 - "$TMP" "$BUILD_DIR/quick.json" <<'PY'
import json, os, sys, time
tmp, out = sys.argv[1], sys.argv[2]
scenarios = [("hello", "GET /"), ("stagepass", "client_credentials POST /api/token"),
             ("me_warm", "GET /v1/me, token cache warm"),
             ("me_nocache", "GET /v1/me, token cache off")]
results = []
for server, scenario in scenarios:
    path = os.path.join(tmp, server + ".json")
    if os.path.exists(path):
        results.append({"server": server, "scenario": scenario, **json.load(open(path))})
rps = {r["server"]: r["rps"] for r in results}
ratios = {k: v / rps["hello"] for k, v in rps.items() if k != "hello" and rps.get("hello")}

print("| server | scenario | rps | p50 (ms) | p99 (ms) | non-2xx |")
print("|---|---|---:|---:|---:|---:|")
for r in results:
    errors = f" (+{r['socket_errors']} socket errors)" if r["socket_errors"] else ""
    print(f"| {r['server']} | {r['scenario']} | {r['rps']:.0f} | {r['p50_us'] / 1000:.2f} "
          f"| {r['p99_us'] / 1000:.2f} | {r['non_2xx']}{errors} |")
for name, ratio in ratios.items():
    print(f"{name}/hello: {ratio:.3f} ({ratio:.1%} of the HTTP ceiling)")

report = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "git_revision": os.environ["GIT_REVISION"],
    "host": {"nproc": os.cpu_count(), "cpu_idle_percent_before": int(os.environ["CPU_IDLE_BEFORE"])},
    "wrk": {"threads": int(os.environ["WRK_THREADS"]),
            "connections": int(os.environ["WRK_CONNECTIONS"]),
            "duration": os.environ["WRK_DURATION"], "warmup": os.environ["WRK_WARMUP"]},
    "results": results,
    "ratio_over_hello": ratios,
}
with open(out, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")
print(f"\nwrote {out}; wrk's reports: {os.path.join(os.path.dirname(out), 'quick-wrk.log')}")
PY

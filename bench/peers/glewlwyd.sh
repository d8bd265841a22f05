#!/usr/bin/env bash
# Glewlwyd (Debian package `glewlwyd`, 2.7.x) as a peer for side-by-side benchmarks of the
# client credentials grant. Loopback only. Run as root on Debian 12 (the install step
# uses apt-get).
#
# Usage:
#   bench/peers/glewlwyd.sh install            install the Debian package (non-interactive)
#   bench/peers/glewlwyd.sh start PORT WORKDIR  install if missing, start on 127.0.0.1:PORT
#                                               with a fresh SQLite database in WORKDIR,
#                                               configure it, print one JSON line, return
#   bench/peers/glewlwyd.sh stop [PORT] WORKDIR stop the instance whose PID is in
#                                               WORKDIR/glewlwyd.pid (SIGTERM, SIGKILL after 10 s)
#
# `start` leaves glewlwyd running in the background (its own session, stdin from
# /dev/null, log in WORKDIR/glewlwyd.log, PID in WORKDIR/glewlwyd.pid) and prints on
# stdout one line of JSON, everything else going to stderr:
#   {"server":"glewlwyd","pid":N,"base_url":"http://127.0.0.1:PORT",
#    "token_url":".../api/glwd/token","token_path":"/api/glwd/token",
#    "introspection_url":".../api/glwd/introspect","client_id":"...","client_secret":"...",
#    "scope":"bench","pbkdf2_iterations":N,"access_token_format":"jwt-eddsa"}
# It exits non-zero (and stops what it started) if any step fails.
#
# Environment (defaults):
#   GLEWLWYD_PBKDF2_ITERATIONS  PBKDF2 iterations of the `database` client module, used to
#                               hash and check the client's secret (unset: glewlwyd's
#                               default, 150000 in 2.7.5). The value actually used is read
#                               back from the stored hash and printed as pbkdf2_iterations.
#   GLEWLWYD_LOG_LEVEL          WARNING (INFO writes one line per token issued)
#   GLEWLWYD_CLIENT_ID          bench-client
#   GLEWLWYD_CLIENT_SECRET      bench-secret-1
#   GLEWLWYD_SCOPE              bench
set -euo pipefail

PLUGIN=glwd                    # the token endpoint is /api/$PLUGIN/token
ADMIN_USER="admin"             # created by init.sqlite3.sql
ADMIN_PASSWORD="password"
DOC=/usr/share/doc/glewlwyd
CLIENT_ID=${GLEWLWYD_CLIENT_ID:-bench-client}
CLIENT_SECRET=${GLEWLWYD_CLIENT_SECRET:-bench-secret-1}
SCOPE=${GLEWLWYD_SCOPE:-bench}
LOG_LEVEL=${GLEWLWYD_LOG_LEVEL:-WARNING}
ITERATIONS=${GLEWLWYD_PBKDF2_ITERATIONS:-}

say() { echo "glewlwyd.sh: $*" >&2; }
die() { say "$*"; exit 1; }
usage() {
  echo "usage: $0 install | start PORT WORKDIR | stop [PORT] WORKDIR" >&2
  exit 2
}

# alive PID: the process runs and is not a zombie.
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [[ -n $state && $state != Z* ]]
}

install_glewlwyd() {
  local missing=()
  command -v glewlwyd >/dev/null && [[ -f $DOC/glewlwyd.conf.sample.gz ]] || missing+=(glewlwyd)
  local tool
  for tool in curl jq openssl sqlite3; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || die "need root to install: ${missing[*]}"
  say "installing ${missing[*]}"
  # Without this preseed the package's debconf question defaults to "Personalized",
  # which runs dbconfig-common and tries to set up a database server.
  echo 'glewlwyd glewlwyd/config_type select No configuration' | debconf-set-selections
  # The postinst tries to start the system service (invoke-rc.d / deb-systemd-invoke):
  # keep it from doing so with a temporary policy-rc.d, unless one is already there.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  local status=0
  # A fresh image may have no package lists yet.
  # (Not `apt-cache ... | grep -q`: with pipefail, grep quitting early fails the pipe.)
  local policy_out
  policy_out=$(apt-cache policy glewlwyd 2>/dev/null || true)
  if [[ $policy_out != *"Candidate: "[0-9]* ]]; then
    apt-get update >&2 || status=$?
  fi
  # dbconfig-no-thanks: otherwise apt satisfies glewlwyd's "dbconfig-mysql |
  # dbconfig-sqlite3 | ..." dependency with dbconfig-mysql and the MariaDB client.
  ((status != 0)) || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}" dbconfig-no-thanks >&2 || status=$?
  if ((created_policy)); then rm -f "$policy"; fi
  ((status == 0)) || die "apt-get install failed"
  # The package enables glewlwyd.service (which, configured with "No configuration",
  # has no glewlwyd user and would fail anyway); this script runs its own instances.
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now glewlwyd.service >&2 || true
  fi
}

stop_instance() {
  local workdir=$1 pid
  [[ -f $workdir/glewlwyd.pid ]] || { say "no $workdir/glewlwyd.pid: nothing to stop"; return 0; }
  pid=$(cat "$workdir/glewlwyd.pid")
  [[ $pid =~ ^[0-9]+$ ]] || die "bad PID file $workdir/glewlwyd.pid"
  # Only a glewlwyd process: the PID may have been reused since.
  if alive "$pid" && [[ $(ps -o comm= -p "$pid") == glewlwyd ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      say "PID $pid still alive 10 s after SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$workdir/glewlwyd.pid"
}

# api METHOD PATH [JSON-BODY-FILE]: an admin API call with the session cookie; prints the
# body, fails unless the status is 200.
api() {
  local method=$1 path=$2 body=${3:-} out code
  out=$(mktemp)
  local args=(-s -o "$out" -w '%{http_code}' -b "$JAR" -c "$JAR" -X "$method")
  [[ -z $body ]] || args+=(-H 'Content-Type: application/json' --data-binary "@$body")
  code=$(curl "${args[@]}" "$BASE$path" || echo 000)
  if [[ $code != 200 ]]; then
    say "$method $path answered $code: $(head -c 500 "$out")"
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

start_instance() {
  local port=$1 workdir=$2
  [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "bad port: $port"
  [[ -z $ITERATIONS || $ITERATIONS =~ ^[1-9][0-9]*$ ]] ||
    die "GLEWLWYD_PBKDF2_ITERATIONS must be a positive integer"
  install_glewlwyd
  mkdir -p "$workdir"
  workdir=$(cd "$workdir" && pwd)
  if [[ -f $workdir/glewlwyd.pid ]] && alive "$(cat "$workdir/glewlwyd.pid")"; then
    die "an instance already runs from $workdir (PID $(cat "$workdir/glewlwyd.pid")); stop it first"
  fi
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
    die "something already answers on 127.0.0.1:$port"
  fi
  BASE="http://127.0.0.1:$port"
  JAR="$workdir/admin-cookies.txt"
  local db="$workdir/glewlwyd.db" conf="$workdir/glewlwyd.conf"
  rm -f "$db" "$JAR" "$workdir/glewlwyd.log"

  # A fresh database: the admin user, the g_admin scope and a `database` client module.
  zcat "$DOC/database/init.sqlite3.sql.gz" | sqlite3 "$db"

  # The sample configuration with: loopback only, our port and database, cookies over
  # plain HTTP, and a cookie domain that matches the host curl talks to (the sample's
  # "localhost" does not match 127.0.0.1, so the admin session cookie would not be sent).
  zcat "$DOC/glewlwyd.conf.sample.gz" | sed -E \
    -e "s|^port=.*|port=$port|" \
    -e 's|^#?bind_address=.*|bind_address="127.0.0.1"|' \
    -e "s|^external_url=.*|external_url=\"$BASE\"|" \
    -e 's|^cookie_domain=.*|cookie_domain="127.0.0.1"|' \
    -e 's|^cookie_secure=.*|cookie_secure=0|' \
    -e 's|^log_mode=.*|log_mode="console"|' \
    -e "s|^log_level=.*|log_level=\"$LOG_LEVEL\"|" \
    -e "s|^  path = \"/var/cache/glewlwyd/glewlwyd.db\"|  path = \"$db\"|" >"$conf"
  grep -q "^bind_address=\"127.0.0.1\"" "$conf" && grep -q "path = \"$db\"" "$conf" ||
    die "could not rewrite $DOC/glewlwyd.conf.sample.gz (layout changed?)"

  # Ed25519 key pair for the access tokens (JWTs, EdDSA), as stagepass signs.
  openssl genpkey -algorithm ed25519 -out "$workdir/jwt.key" 2>/dev/null
  openssl pkey -in "$workdir/jwt.key" -pubout -out "$workdir/jwt.pub" 2>/dev/null

  # setsid: its own session, so a Ctrl-C in the calling terminal does not reach it.
  (cd "$workdir" && exec setsid glewlwyd --config-file="$conf" </dev/null >"$workdir/glewlwyd.log" 2>&1) &
  local pid=$!
  echo "$pid" >"$workdir/glewlwyd.pid"
  sleep 0.1
  # setsid runs glewlwyd in place (no fork) since a background subshell of a script
  # without job control is not a process group leader: the PID is glewlwyd's.
  if alive "$pid" && [[ $(ps -o comm= -p "$pid") != glewlwyd ]]; then
    die "PID $pid is $(ps -o comm= -p "$pid"), not glewlwyd"
  fi
  # From here on, a failure stops the instance.
  trap 'status=$?; if ((status != 0)); then stop_instance "'"$workdir"'"; fi' EXIT

  local ok=0
  for _ in $(seq 150); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/config" || true) == 200 ]]; then
      ok=1
      break
    fi
    alive "$pid" || { tail -n 20 "$workdir/glewlwyd.log" >&2; die "glewlwyd exited before answering"; }
    sleep 0.1
  done
  ((ok)) || { tail -n 20 "$workdir/glewlwyd.log" >&2; die "$BASE/config did not answer 200 within 15 s"; }

  local tmp="$workdir/api"
  mkdir -p "$tmp"
  # 1. Admin session (cookie GLEWLWYD2_SESSION_ID in $JAR).
  jq -n --arg u "$ADMIN_USER" --arg p "$ADMIN_PASSWORD" '{username: $u, password: $p}' >"$tmp/auth.json"
  api POST /api/auth/ "$tmp/auth.json" >/dev/null || die "admin login failed"

  # 2. PBKDF2 iterations of the `database` client module. Must happen before the client
  #    is created (the hash is computed on write), and a parameter change only takes
  #    effect after the instance is reset.
  if [[ -n $ITERATIONS ]]; then
    api GET /api/mod/client/database >"$tmp/modc.json"
    jq --argjson n "$ITERATIONS" \
      '{display_name, order_rank, readonly, parameters: (.parameters + {"pbkdf2-iterations": $n})}' \
      "$tmp/modc.json" >"$tmp/modc-put.json"
    api PUT /api/mod/client/database "$tmp/modc-put.json" >/dev/null
    api PUT /api/mod/client/database/reset >/dev/null
  fi

  # 3. The scope the client may ask for.
  jq -n --arg s "$SCOPE" \
    '{name: $s, display_name: "Benchmark scope", description: "client credentials benchmark",
      password_required: false, scheme: {}}' >"$tmp/scope.json"
  api POST /api/scope/ "$tmp/scope.json" >/dev/null

  # 4. An oauth2-glewlwyd plugin instance: client credentials only, EdDSA JWTs,
  #    introspection/revocation open to the client that owns the token (HTTP Basic).
  jq -n --arg name "$PLUGIN" --rawfile key "$workdir/jwt.key" --rawfile cert "$workdir/jwt.pub" \
    '{module: "oauth2-glewlwyd", name: $name, display_name: "OAuth2 (benchmark)",
      parameters: {
        "jwt-type": "eddsa", "jwt-key-size": "256", key: $key, cert: $cert,
        "access-token-duration": 3600, "refresh-token-duration": 1209600,
        "code-duration": 600, "refresh-token-rolling": false,
        "auth-type-code-enabled": false, "auth-type-implicit-enabled": false,
        "auth-type-password-enabled": false, "auth-type-client-enabled": true,
        "auth-type-refresh-enabled": false,
        "introspection-revocation-allowed": true,
        "introspection-revocation-allow-target-client": true,
        "introspection-revocation-auth-scope": [],
        scope: []}}' >"$tmp/plugin.json"
  api POST /api/mod/plugin/ "$tmp/plugin.json" >/dev/null

  # 5. The confidential client. `password` is stored as a PBKDF2 hash (what the
  #    iteration setting is about); a `client_secret` property would be stored and
  #    compared in plaintext instead, and would take precedence.
  jq -n --arg id "$CLIENT_ID" --arg pw "$CLIENT_SECRET" --arg s "$SCOPE" \
    '{client_id: $id, name: "benchmark client", description: "", enabled: true,
      confidential: true, password: $pw, scope: [$s],
      authorization_type: ["client_credentials"], redirect_uri: []}' >"$tmp/client.json"
  api POST /api/client/ "$tmp/client.json" >/dev/null

  # The iteration count glewlwyd stored with the hash ("<base64>,<iterations>").
  local stored
  stored=$(sqlite3 "$db" "SELECT gc_password FROM g_client WHERE gc_client_id = '${CLIENT_ID//\'/\'\'}'")
  local used=${stored##*,}
  [[ $used =~ ^[0-9]+$ ]] || used=null

  # 6. One grant by hand, so that a benchmark of errors cannot start.
  local code
  code=$(curl -s -o "$tmp/token.json" -w '%{http_code}' -u "$CLIENT_ID:$CLIENT_SECRET" \
    --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE" \
    "$BASE/api/$PLUGIN/token" || echo 000)
  [[ $code == 200 ]] && jq -e '.access_token | length > 0' "$tmp/token.json" >/dev/null ||
    die "client credentials grant answered $code: $(head -c 500 "$tmp/token.json")"

  trap - EXIT
  jq -cn --argjson pid "$pid" --arg base "$BASE" --arg path "/api/$PLUGIN/token" \
    --arg intro "$BASE/api/$PLUGIN/introspect" --arg id "$CLIENT_ID" --arg secret "$CLIENT_SECRET" \
    --arg scope "$SCOPE" --argjson iter "$used" \
    '{server: "glewlwyd", pid: $pid, base_url: $base, token_url: ($base + $path),
      token_path: $path, introspection_url: $intro, client_id: $id, client_secret: $secret,
      scope: $scope, pbkdf2_iterations: $iter, access_token_format: "jwt-eddsa"}'
}

case ${1:-} in
  install)
    (($# == 1)) || usage
    install_glewlwyd
    ;;
  start)
    (($# == 3)) || usage
    start_instance "$2" "$3"
    ;;
  stop)
    (($# == 2 || $# == 3)) || usage
    stop_instance "${@: -1}"
    ;;
  *) usage ;;
esac

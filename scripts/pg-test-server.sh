#!/usr/bin/env bash
# A throw-away PostgreSQL 15 (Debian's postgresql-15) for tests: its own temporary directory,
# 127.0.0.1 on a free port, its unix socket in that directory, durable like production
# (fsync and synchronous_commit on).
#
#   eval "$(scripts/pg-test-server.sh start)"   starts one; prints the shell lines that export
#                                               STAGEPASS_PG_DIR, STAGEPASS_TEST_POSTGRESQL
#                                               (the connection URL) and PGPASSFILE
#   scripts/pg-test-server.sh env  [DIR]        prints those lines again
#   scripts/pg-test-server.sh stop [DIR]        stops it (pg_ctl, by its data directory; the
#                                               postmaster's PID is in DIR/data/postmaster.pid)
#                                               and deletes DIR
#   scripts/pg-test-server.sh run [--standby] -- CMD ARGS
#                                               starts one (and a hot standby of it), runs CMD
#                                               with those variables set, stops it whatever CMD
#                                               did; exits with CMD's code
#   scripts/pg-test-server.sh pause [DIR]       stops the server (fast shutdown: open sessions
#                                               are cut) but keeps DIR, its data and its port:
#                                               an outage for tests
#   scripts/pg-test-server.sh resume [DIR]      starts the paused server again on the same port
#                                               (same URL and password); waits until it accepts
#   scripts/pg-test-server.sh freeze [DIR]      stops the server's processes (SIGSTOP, by the PID
#                                               in DIR/data/postmaster.pid and its children):
#                                               connections stay open but nothing answers, as
#                                               with a host gone or a network partition
#   scripts/pg-test-server.sh thaw [DIR]        lets them run again (SIGCONT)
#   scripts/pg-test-server.sh standby [DIR]     adds a hot standby of it (streaming replication,
#                                               pg_basebackup -R) on another free port; prints
#                                               the export of STAGEPASS_TEST_POSTGRESQL_REPLICA;
#                                               `stop` stops it too
# DIR defaults to $STAGEPASS_PG_DIR.
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (made by
# the package), else as a dedicated system user `stagepass-pg` created here; as anyone else it
# runs as the caller. The superuser role is `stagepass`, database `stagepass`. Over TCP it
# needs a random password (scram-sha-256) that is kept in DIR/pgpass (mode 0600, found by
# libpq through PGPASSFILE), never in the URL; the unix socket lives in DIR (mode 0700).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROLE=stagepass
DB=stagepass

die() { echo "pg-test-server: $*" >&2; exit 1; }

# The unprivileged account the server runs as, and the command prefix that runs as it.
server_user() {
  if [[ $(id -u) -ne 0 ]]; then id -un; return; fi
  if getent passwd postgres >/dev/null; then echo postgres; return; fi
  getent passwd stagepass-pg >/dev/null ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin stagepass-pg
  echo stagepass-pg
}
as_user() {
  local user=$1; shift
  # From / : the caller's working directory may not be readable by that user.
  if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

print_env() {
  local dir=$1
  [[ -f $dir/port ]] || die "no test server in '$dir'"
  local port; port=$(<"$dir/port")
  echo "export STAGEPASS_PG_DIR='$dir'"
  echo "export PGPASSFILE='$dir/pgpass'"
  echo "export STAGEPASS_TEST_POSTGRESQL='postgresql://$ROLE@127.0.0.1:$port/$DB'"
}

start() {
  [[ -x $PG_BIN/initdb ]] ||
    die "$PG_BIN/initdb not found: install postgresql-15 (scripts/install-deps.sh test)"
  local user dir
  user=$(server_user)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/stagepass-pg.XXXXXX")
  chmod 0700 "$dir"
  # The password: 32 random bytes, hex. Written only to files of mode 0600.
  local password; password=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077; printf '%s\n' "$password" >"$dir/pwfile")
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir" "$dir/pwfile"
  # --no-sync: initdb does not flush the template files it writes (a crash loses only this
  # throw-away cluster); the server itself runs with fsync on, as in production.
  as_user "$user" "$PG_BIN/initdb" -D "$dir/data" -U "$ROLE" --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
  rm -f "$dir/pwfile"
  # A port chosen free can be taken before the server binds it: try a few.
  local port="" _
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if pg_start "$user" "$dir" "$port"; then break; fi
    port=""
  done
  [[ -n $port ]] || { cat "$dir/server.log" >&2; rm -rf "$dir"; die "the server did not start"; }
  echo "$port" >"$dir/port"
  (umask 077; printf '127.0.0.1:%s:*:%s:%s\n' "$port" "$ROLE" "$password" >"$dir/pgpass")
  as_user "$user" "$PG_BIN/createdb" -h "$dir" -p "$port" -U "$ROLE" "$DB"
  print_env "$dir"
}

# Starts the server of DIR on PORT as USER and waits until it accepts connections.
pg_start() {
  local user=$1 dir=$2 port=$3
  as_user "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c synchronous_commit=on" \
    >/dev/null
}

running() { as_user "$1" "$PG_BIN/pg_ctl" -D "$2/data" status >/dev/null 2>&1; }

pause() {
  local dir=$1
  [[ -n $dir && -d $dir/data && -f $dir/port ]] || die "no test server in '${dir}'"
  local owner; owner=$(stat -c %U "$dir/data")
  running "$owner" "$dir" || die "pause: the server in '$dir' is not running (paused already?)"
  as_user "$owner" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ||
    die "pause: the server in '$dir' did not stop"
}

resume() {
  local dir=$1
  [[ -n $dir && -d $dir/data && -f $dir/port ]] || die "no test server in '${dir}'"
  local owner; owner=$(stat -c %U "$dir/data")
  ! running "$owner" "$dir" || die "resume: the server in '$dir' is running already"
  # The port was given up while paused: another process may have taken it meanwhile.
  pg_start "$owner" "$dir" "$(<"$dir/port")" ||
    { tail -n 20 "$dir/server.log" >&2; die "resume: the server in '$dir' did not start"; }
}

standby() {
  local dir=$1
  [[ -f $dir/port ]] || die "no test server in '$dir'"
  [[ ! -d $dir/standby ]] || die "'$dir' has a standby already"
  local owner port password sport=""
  owner=$(stat -c %U "$dir/data")
  port=$(<"$dir/port")
  # The replication connection goes over the unix socket (trusted locally by initdb's
  # --auth-local=trust), so no password is involved. --checkpoint=fast: the default spread
  # checkpoint made pg_basebackup wait about 90 s for a database of a few megabytes.
  as_user "$owner" "$PG_BIN/pg_basebackup" -h "$dir" -p "$port" -U "$ROLE" -D "$dir/standby" \
    -R -X stream --no-sync --checkpoint=fast >"$dir/basebackup.log" 2>&1 ||
    { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
  local _
  for _ in 1 2 3 4 5; do
    sport=$(free_port)
    if as_user "$owner" "$PG_BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -t 30 start \
         -o "-c listen_addresses=127.0.0.1 -p $sport -k $dir -c hot_standby=on" >/dev/null; then
      break
    fi
    sport=""
  done
  [[ -n $sport ]] || { cat "$dir/standby.log" >&2; die "the standby did not start"; }
  echo "$sport" >"$dir/standby_port"
  password=$(cut -d: -f5 "$dir/pgpass" | head -1)
  (umask 077; printf '127.0.0.1:%s:*:%s:%s\n' "$sport" "$ROLE" "$password" >>"$dir/pgpass")
  echo "export STAGEPASS_TEST_POSTGRESQL_REPLICA='postgresql://$ROLE@127.0.0.1:$sport/$DB'"
}

# The postmaster's PID and its children's (the server's processes), one per line.
server_pids() {
  local dir=$1 pid
  [[ -n $dir && -f $dir/data/postmaster.pid ]] || die "no running test server in '${dir}'"
  pid=$(head -n 1 "$dir/data/postmaster.pid")
  echo "$pid"
  pgrep -P "$pid" || true
}

freeze() { kill -STOP $(server_pids "$1"); }
thaw() { kill -CONT $(server_pids "$1"); }

stop() {
  local dir=$1
  [[ -n $dir && -d $dir/data ]] || die "no test server in '${dir}'"
  local owner; owner=$(stat -c %U "$dir/data")
  if [[ -d $dir/standby ]]; then
    as_user "$owner" "$PG_BIN/pg_ctl" -D "$dir/standby" -m fast -w stop >/dev/null || true
  fi
  as_user "$owner" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
}

cmd=${1:-}
shift || true
case "$cmd" in
  start) start ;;
  env) print_env "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  stop) stop "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  pause) pause "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  resume) resume "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  standby) standby "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  freeze) freeze "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  thaw) thaw "${1:-${STAGEPASS_PG_DIR:-}}" ;;
  run)
    with_standby=0
    [[ ${1:-} == --standby ]] && { with_standby=1; shift; }
    [[ ${1:-} == -- ]] && shift
    (($#)) || die "run: no command"
    eval "$(start)"
    trap 'stop "$STAGEPASS_PG_DIR"' EXIT
    ((with_standby)) && eval "$(standby "$STAGEPASS_PG_DIR")"
    set +e
    "$@"
    rc=$?
    exit $rc
    ;;
  *) die "usage: $0 start | env [DIR] | stop [DIR] | pause [DIR] | resume [DIR] | freeze [DIR] | thaw [DIR] | standby [DIR] | run [--standby] -- CMD [ARGS...]" ;;
esac

#!/usr/bin/env bash
# Runs the end-to-end (Node, tests/e2e) and interop (Python authlib, tests/interop) suites
# against the real server binary: $STAGEPASS_BIN, or build/stagepass at the repo root.
# Exits non-zero if either suite fails. Needs: node >= 20 + npm, python3 with authlib and
# requests (Debian: python3-authlib python3-requests), Debian's chromium for the browser test
# (scripts/install-deps.sh test installs them all).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export STAGEPASS_BIN="${STAGEPASS_BIN:-$root/build/stagepass}"
if [[ ! -x $STAGEPASS_BIN ]]; then
  echo "run-e2e: server binary not found at $STAGEPASS_BIN (build first or set STAGEPASS_BIN)" >&2
  exit 2
fi

# (Re)install when node_modules is missing or older than the lock file (a dependency was added).
if [[ ! -d tests/e2e/node_modules || tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]]; then
  npm ci --prefix tests/e2e --no-audit --no-fund || { echo "run-e2e: npm ci failed" >&2; exit 2; }
fi

# Debian's authlib lives in the system interpreter; a python3 earlier on PATH (pyenv, venv)
# may lack it.
python=${PYTHON:-python3}
if ! "$python" -c 'import authlib, requests' 2>/dev/null && [[ -x /usr/bin/python3 ]]; then
  python=/usr/bin/python3
fi

# tests/security/ shares tests/e2e's npm packages (one lock file).
[[ -e tests/security/node_modules ]] || ln -s ../e2e/node_modules tests/security/node_modules

# Every server's stdout/stderr is kept here (tests/e2e/lib/server.mjs, tests/interop/server.py)
# and scanned for secrets once all suites ran; removed when the scan passes.
own_log_dir=0
if [[ -z ${STAGEPASS_E2E_LOG_DIR:-} ]]; then
  STAGEPASS_E2E_LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stagepass-logs.XXXXXX")
  own_log_dir=1
fi
export STAGEPASS_E2E_LOG_DIR

# Test files run three at a time (STAGEPASS_E2E_JOBS): each file starts its own servers on free
# loopback ports with their own temp dirs, and most of a file's time is spent waiting (token
# lifetimes, rate-limit windows, key schedules), so several at a time cut the wall time on 2
# cores: one at a time e2e 279 s, security 152 s; two at a time 112 s and 76 s (2026-12-04);
# three at a time, e2e + security + the PostgreSQL files 218 s against 269 s for two (Release
# binary), and under ASan (scripts/test-asan.sh) 275 s against 346 s, clean (2026-12-04
# evening). Tests assert no response time; the one deadline is a server's start-up (15 s,
# tests/e2e/lib/server.mjs). STAGEPASS_E2E_JOBS=1 runs one file at a time.
jobs=${STAGEPASS_E2E_JOBS:-3}
status=0
echo "== e2e (node --test, $jobs files at a time) =="
node --test --test-concurrency="$jobs" tests/e2e/ || status=1
if compgen -G 'tests/security/*.test.mjs' >/dev/null; then
  echo "== security (node --test, $jobs files at a time) =="
  node --test --test-concurrency="$jobs" tests/security/ || status=1
fi
# The files that exercise the accounts store most, again on PostgreSQL (a throw-away server,
# scripts/pg-test-server.sh; each SQLite path a test names becomes a database of it,
# tests/e2e/lib/server.mjs): the same behaviour must hold on both stores. Needs Debian's
# postgresql-15; skipped without it, and under the sanitizers (the PostgreSQL store's code
# runs under them in the conformance suite). STAGEPASS_E2E_POSTGRESQL_FILES=0 skips it.
pg_files=()
for f in protocol openid-client oauth4webapi revocation revocation-push account-apps devmode \
         secret-rotation webapi-roles; do pg_files+=("tests/e2e/$f.test.mjs"); done
if [[ ${STAGEPASS_E2E_POSTGRESQL_FILES:-1} != 0 && -z ${ASAN_OPTIONS:-} && -x /usr/lib/postgresql/15/bin/initdb ]]; then
  echo "== e2e on PostgreSQL (${#pg_files[@]} files) =="
  scripts/pg-test-server.sh run -- bash -c 'STAGEPASS_E2E_POSTGRESQL=$STAGEPASS_TEST_POSTGRESQL exec "$@"' _ \
    node --test --test-concurrency="$jobs" "${pg_files[@]}" || status=1
fi
echo "== interop (python authlib: $python) =="
"$python" -m unittest discover -s tests/interop -v || status=1
echo "== log scan (no token, code, secret or password in any server log) =="
if node tests/security/log-scan.mjs "$STAGEPASS_E2E_LOG_DIR"; then
  [[ $own_log_dir == 1 ]] && rm -rf "$STAGEPASS_E2E_LOG_DIR"
else
  status=1
  echo "run-e2e: server logs kept in $STAGEPASS_E2E_LOG_DIR" >&2
fi
exit $status

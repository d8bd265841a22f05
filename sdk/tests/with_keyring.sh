#!/usr/bin/env bash
# Runs the Keyring* tests of the sdk_keyring_test binary (path in $1) against a real
# gnome-keyring. Each session is a private D-Bus session (dbus-run-session) with a throwaway
# HOME and XDG_RUNTIME_DIR and an otherwise empty environment: nothing of the caller's
# desktop is used, and with no DISPLAY a prompt could not appear anywhere.
#   session "fresh": gnome-keyring only as D-Bus activates it, so there is no login keyring
#     (no default collection): KeyringNoneTest.*
#   session "login": the login keyring (the default collection) created and unlocked from a
#     password on stdin: KeyringTest.*; then, after locking it, KeyringLockedTest.*
# Both session logs must show that no prompter was ever started: the SDK never asks.
# Fails, never skips, when a tool is missing (`scripts/install-deps.sh test` installs them).
# Each session is bounded by `timeout 30` (ctest allows the whole script 90 s).
set -euo pipefail

# Inside a D-Bus session: inside <fresh|login> <test binary> <output dir>
if [[ ${1-} == inside ]]; then
  session=$2 test_bin=$3 out=$4
  run() {  # run <name> <STAGEPASS_TEST_KEYRING> <gtest filter>
    STAGEPASS_TEST_KEYRING=$2 "$test_bin" --gtest_filter="$3" | tee "$out/$1.out"
  }
  if [[ $session == fresh ]]; then
    run none none 'KeyringNoneTest.*'
    exit 0
  fi

  eval "$(printf '%s' stagepass-test | gnome-keyring-daemon --unlock --components=secrets)"
  eval "$(gnome-keyring-daemon --start --components=secrets)"
  export GNOME_KEYRING_CONTROL
  run unlocked unlocked 'KeyringTest.*'

  # An entry for a directory, then lock the collection it is in (the default one).
  mkdir "$out/locked-entry"
  export STAGEPASS_TEST_LOCKED_DIR=$out/locked-entry
  head -c 32 /dev/urandom | base64 | tr -d '\n' \
    | timeout 10 secret-tool store --label="locked entry" xdg:schema dev.stagepass.TokenCacheKey \
      directory "$(realpath "$STAGEPASS_TEST_LOCKED_DIR")"
  # (`secret-tool lock` of libsecret 0.20.5 locks, then crashes: ask the service directly.)
  timeout 10 gdbus call --session --dest org.freedesktop.secrets \
    --object-path /org/freedesktop/secrets --method org.freedesktop.Secret.Service.Lock \
    "['/org/freedesktop/secrets/aliases/default']" >/dev/null
  run locked locked 'KeyringLockedTest.*'
  exit 0
fi

test_bin=$(realpath "$1")
self=$(realpath "$0")
missing=()
for tool in dbus-run-session gnome-keyring-daemon secret-tool gdbus timeout; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "with_keyring: FAIL: not installed: ${missing[*]} (run scripts/install-deps.sh test)" >&2
  exit 1
fi

# The sanitizers' settings (scripts/test-asan.sh) cross the empty environment, so the test
# binary's reports still land where the run looks for them.
sanitizer_env=()
for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS ASAN_SYMBOLIZER_PATH; do
  if [[ -n ${!var-} ]]; then sanitizer_env+=("$var=${!var}"); fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "with_keyring: FAIL: $*" >&2
  exit 1
}

for session in fresh login; do
  dir=$tmp/$session
  mkdir -m 700 "$dir" "$dir/home" "$dir/runtime"
  start=$(date +%s%N)
  set +e
  env -i PATH="$PATH" LANG=C.UTF-8 HOME="$dir/home" XDG_RUNTIME_DIR="$dir/runtime" \
    "${sanitizer_env[@]}" \
    timeout -k 5 30 dbus-run-session -- "$self" inside "$session" "$test_bin" "$dir" \
    2>"$dir/session.log"
  rc=$?
  set -e
  echo "with_keyring: session $session took $((($(date +%s%N) - start) / 1000000)) ms"
  sed "s/^/$session session: /" "$dir/session.log" >&2
  ((rc != 124)) || fail "session $session timed out after 30 s"
  ((rc == 0)) || fail "session $session: exit status $rc"
  if grep -qi 'prompter' "$dir/session.log"; then
    fail "session $session: something asked gnome-keyring to prompt"
  fi
done

for run in fresh/none login/unlocked login/locked; do
  grep -q '^\[  PASSED  \]' "$tmp/$run.out" || fail "no test passed in $run"
  if grep -q '^\[  SKIPPED \]' "$tmp/$run.out"; then fail "tests skipped in $run"; fi
done
echo "with_keyring: ok"

#!/usr/bin/env bash
# Runs the unit tests (ctest) and the end-to-end, security and interop suites
# (tests/run-e2e.sh) against a build made with -DSTAGEPASS_SANITIZE=ON (ASan + UBSan).
# Usage: scripts/test-asan.sh <build dir>     (make test-asan builds build-asan first)
#
# Every process the suites start from that build (unit tests, `stagepass serve`, the admin
# CLI, the SDK's programs) writes its sanitizer reports to one directory instead of its
# stderr, where a test might not look, or after the test stopped watching (at exit). The run
# fails if any test fails or if that directory holds any report, so a leak found when a server
# exits after its test passed still fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/test-asan.sh <build dir>}
build=$(cd "$build" && pwd)
jobs=${JOBS:-$(nproc)}

reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error: the first finding ends the process (UBSan: -fno-sanitize-recover at build).
# detect_leaks: LeakSanitizer at every exit; known third-party leaks live in lsan.supp, each
# with its reason. log_path: one file per process, <reports>/asan.<pid>.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
# Tests that cannot run under the sanitizers say why and skip on this (and only this).
export STAGEPASS_TEST_SANITIZED=1
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)

status=0
start=$SECONDS
echo "== unit tests (ASan + UBSan) =="
# sdk_install_and_consume configures a standalone project against the installed (sanitized)
# SDK: CMake takes its compiler and flags from CXX, CXXFLAGS and LDFLAGS.
san="-fsanitize=address,undefined"
# Tests that need PostgreSQL get a throw-away server when postgresql-15 is installed.
pg_run=()
[[ -x /usr/lib/postgresql/15/bin/initdb ]] && pg_run=("$PWD/scripts/pg-test-server.sh" run --standby --)
(cd "$build" && CXX=clang++ CXXFLAGS="$san -fno-sanitize=function" LDFLAGS="$san" \
  "${pg_run[@]}" ctest --no-tests=error --output-on-failure -j "$jobs") || status=1
unit_done=$SECONDS
echo "== end-to-end, security and interop suites against $build/stagepass (ASan + UBSan) =="
STAGEPASS_BIN=$build/stagepass tests/run-e2e.sh || status=1

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo "test-asan: ${#found[@]} sanitizer report(s) in $reports:" >&2
  for f in "${found[@]}"; do
    echo "--- $f" >&2
    head -60 "$f" >&2
  done
  status=1
fi
echo "test-asan: unit $((unit_done - start))s, e2e $((SECONDS - unit_done))s," \
  "$([[ $status == 0 ]] && echo clean || echo FAILED)"
exit $status

#!/usr/bin/env bash
# Runs the libFuzzer harnesses for a bounded time each and fails on any crash, leak, UB or
# broken invariant. Usage: fuzz/run.sh <build dir> [harness...]   (default: every harness)
#   FUZZ_SECONDS  time per harness (default 60); FUZZ_ARGS  extra libFuzzer flags;
#   FUZZ_JOBS     harnesses at once (default 1).
# Each harness starts from its committed seeds (fuzz/corpus/<name>/, never written to) plus
# what earlier runs found (<build dir>/fuzz-corpus/<name>/). A crash leaves its input in
# <build dir>/fuzz-artifacts/<name>/; replay it with: <build dir>/fuzz/fuzz_<name> <file>.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh <build dir> [harness...]}
shift
seconds=${FUZZ_SECONDS:-60}
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  harnesses=(form basic_auth jwt redirect_uri scope continue api_json)
fi
# A harness named twice runs once (two runs at once would share its corpus and log).
mapfile -t harnesses < <(printf '%s\n' "${harnesses[@]}" | awk '!seen[$0]++')

# FUZZ_JOBS harnesses run at once (default 1; make fuzz-smoke runs one per core). Each has its
# own corpus, artifacts and log, and its own time budget either way. One at a time, each is
# shown as it runs; several, what each printed is shown whole, in the order the harnesses were
# named, once all have ended.
jobs=${FUZZ_JOBS:-1}
if [[ ! $jobs =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: FUZZ_JOBS must be a positive integer, not '$jobs'" >&2
  exit 2
fi

# SQLite files of the harnesses go to a RAM disk when there is one (no fsync cost).
scratch_base=/dev/shm
[[ -d $scratch_base && -w $scratch_base ]] || scratch_base=$build
export TMPDIR
TMPDIR=$(mktemp -d "$scratch_base/stagepass-fuzz.XXXXXX")
# Interrupted: the running harnesses stop too, before their scratch space is removed.
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$TMPDIR"' EXIT

# Every sanitizer report is fatal; LeakSanitizer runs at exit of each input batch.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

results=$TMPDIR/results
mkdir -p "$results"

# Runs harness $1 and writes its summary row to $results/$1.
fuzz_one() {
  local h=$1
  local bin=$build/fuzz/fuzz_$h
  if [[ ! -x $bin ]]; then
    echo "fuzz: $bin not built" >&2
    echo "$h|-|-|-|NOT BUILT" >"$results/$h"
    return
  fi
  local work=$build/fuzz-corpus/$h
  local artifacts=$build/fuzz-artifacts/$h
  mkdir -p "$work" "$artifacts"
  local dict=()
  [[ -f fuzz/dicts/$h.dict ]] && dict=(-dict="fuzz/dicts/$h.dict")
  local log=$build/fuzz-$h.log
  echo "== fuzz_$h: ${seconds}s =="
  # The first corpus directory receives new inputs; the committed seeds stay read-only. The
  # harness runs as a child this job waits for, so the job can stop it when it is told to stop.
  local pid=""
  trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; [[ -n $pid ]] && wait "$pid"; exit 143' INT TERM
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_ARGS:-} "$work" "fuzz/corpus/$h" \
    >"$log" 2>&1 &
  pid=$!
  wait "$pid"
  local rc=$?
  trap - INT TERM
  local runs rate cov0 cov1 cov
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # Coverage (edges) once the corpus is loaded, and at the end: it grows when the run finds
  # new paths, and stays 0 if the code under test lost its instrumentation.
  cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
  cov1=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
  cov="${cov0:-?}->${cov1:-?}"
  if ((rc != 0)); then
    grep -E '^(==[0-9]+==ERROR|==fuzz==|SUMMARY|.*runtime error)' "$log" | head -20
    echo "fuzz_$h FAILED (exit $rc): input in $artifacts/, full log $log"
    echo "$h|${runs:-?}|${rate:-?}|$cov|FAILED" >"$results/$h"
  else
    echo "fuzz_$h: ${runs:-?} executions (${rate:-?}/s), coverage $cov, no crash"
    echo "$h|${runs:-?}|${rate:-?}|$cov|ok" >"$results/$h"
  fi
}

running=0
for h in "${harnesses[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  if ((jobs == 1)); then
    fuzz_one "$h" &  # one at a time: shown as it runs
  else
    fuzz_one "$h" >"$results/$h.out" 2>&1 &
  fi
  running=$((running + 1))
done
wait

status=0
summary=()
for h in "${harnesses[@]}"; do
  ((jobs == 1)) || cat "$results/$h.out" 2>/dev/null
  row=$(cat "$results/$h" 2>/dev/null) || row="$h|-|-|-|NO RESULT"
  [[ $row == *"|ok" ]] || status=1
  summary+=("$row")
done

echo
printf '%-14s %14s %10s %12s  %s\n' harness executions exec/s cov result
for row in "${summary[@]}"; do
  IFS='|' read -r h runs rate cov result <<<"$row"
  printf '%-14s %14s %10s %12s  %s\n' "$h" "$runs" "$rate" "$cov" "$result"
done
exit $status

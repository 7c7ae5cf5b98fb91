#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]        SECONDS per target (default 60)
#
# 1. Configures a separate build directory (build-fuzz) with clang:
#      CC=clang CXX=clang++ -DSP_FUZZ=ON -DSP_SANITIZE=address,undefined
#      -DCMAKE_{C,CXX}_FLAGS=-fsanitize=fuzzer-no-link
#    so the libraries under test are instrumented for coverage and sanitizers, and builds only the
#    fuzz targets (the plugin .so and the rest of the tree are not needed). C++ also gets
#    -fsized-deallocation (GCC's default; clang 14 leaves sized operator delete undeclared
#    without it): host/auth/secret.cpp called ::operator delete(p, bytes, align) until 11af96d,
#    and the flag keeps such code compiling here.
# 2. For each target, replays its regressions first (tests/fuzz/regressions/TARGET/*: every
#    crash ever found, run once each without fuzzing; a failing one fails the script), then fuzzes
#    for SECONDS with its dictionary (tests/fuzz/TARGET.dict) on a scratch copy of its seed corpus
#    (tests/fuzz/corpus/TARGET, which therefore never grows). While fuzzing, FUZZ_SKIP_KNOWN=1
#    lets the targets steer around the bugs their regressions already hold (see
#    tests/fuzz/fuzz_common.hpp), so a known unfixed bug does not hide new ones.
# 3. Prints a summary (executions, exec/s, coverage, new corpus units per target) and exits
#    non-zero if any regression or fuzz run crashed, leaked, hit UB or timed out. Reproducers are
#    kept in $FUZZ_ARTIFACTS/TARGET/ and their paths printed; replay one with
#      build-fuzz/fuzz/TARGET PATH
#    and commit it as tests/fuzz/regressions/TARGET/NAME once the bug is understood.
#
# Environment:
#   BUILD_DIR       build directory (default build-fuzz)
#   JOBS            build parallelism (default 2)
#   TARGETS         targets to run (default: fuzz_definition fuzz_pipeline fuzz_response fuzz_abi)
#   FUZZ_ARTIFACTS  where crash reproducers go (default $BUILD_DIR/artifacts; kept after exit)
#   FUZZ_KEEP_CORPUS  a directory: the grown scratch corpora are copied there (for minimizing
#                   into the seed corpus with -merge=1); default: discarded
#   FUZZ_ARGS       extra libFuzzer flags for the fuzz runs (e.g. -jobs=2, -seed=1)
#   SP_WARNINGS_AS_ERRORS  warnings as errors for this build (default ON; SP_WERROR, its former
#                   name, is still honoured)
# Only loopback is used (no network at all: check() gets no host, instances are dry runs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
dir=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}
targets=(${TARGETS:-fuzz_definition fuzz_pipeline fuzz_response fuzz_abi})
artifacts=${FUZZ_ARTIFACTS:-$dir/artifacts}

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
child=""
cleanup() {
  if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "fuzz: configuring $dir with clang (SP_FUZZ=ON, address,undefined, fuzzer-no-link)"
CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSP_FUZZ=ON -DSP_SANITIZE=address,undefined -DSP_WARNINGS_AS_ERRORS="${SP_WARNINGS_AS_ERRORS:-${SP_WERROR:-ON}}" \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -fsized-deallocation" >/dev/null
echo "fuzz: building ${targets[*]}"
cmake --build "$dir" -j "$jobs" --target "${targets[@]}"

max_len() {
  case "$1" in
    fuzz_response) echo 24576 ;;  # past the 16 KiB header limit
    *) echo 8192 ;;
  esac
}

failed=()
summary=()
for t in "${targets[@]}"; do
  bin=$dir/fuzz/$t
  mkdir -p "$artifacts/$t"
  # Regressions: every input once, no fuzzing.
  regressions=()
  if [ -d "tests/fuzz/regressions/$t" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "tests/fuzz/regressions/$t" -type f -print0 | sort -z)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    echo "fuzz: $t: replaying ${#regressions[@]} regression input(s)"
    replay_failed=""
    for f in "${regressions[@]}"; do  # one at a time: a crash stops libFuzzer's replay
      if ! FUZZ_SKIP_KNOWN=0 "$bin" -timeout=60 "$f" >"$tmp/$t.replay.log" 2>&1; then
        grep -a -E 'runtime error|ERROR: AddressSanitizer|ERROR: LeakSanitizer|invariant broken|deadly signal' \
          "$tmp/$t.replay.log" | head -n 3 | sed 's/^/    /'
        echo "fuzz: $t: REGRESSION FAILS: $f (replay: $bin $f)"
        replay_failed="$replay_failed $(basename "$f")"
      fi
    done
    if [ -n "$replay_failed" ]; then
      failed+=("$t:regression")
      summary+=("$(printf '%-16s %8s %10s %8s %6s %6s  %s' "$t" - - - - - "REGRESSION:$replay_failed")")
    fi
  fi
  # Fuzz a scratch copy of the seed corpus.
  mkdir -p "$tmp/corpus/$t"
  cp -r "tests/fuzz/corpus/$t/." "$tmp/corpus/$t/"
  seeds=$(find "$tmp/corpus/$t" -type f | wc -l)
  echo "fuzz: $t: fuzzing for ${seconds}s ($seeds seeds, dict tests/fuzz/$t.dict)"
  log=$tmp/$t.log
  set +e
  # shellcheck disable=SC2086
  FUZZ_SKIP_KNOWN=${FUZZ_SKIP_KNOWN:-1} "$bin" -max_total_time="$seconds" -timeout=25 -max_len="$(max_len "$t")" -print_final_stats=1 \
    -dict="tests/fuzz/$t.dict" -artifact_prefix="$artifacts/$t/" ${FUZZ_ARGS:-} "$tmp/corpus/$t" >"$log" 2>&1 &
  child=$!
  wait "$child"
  rc=$?
  child=""
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  units=$(find "$tmp/corpus/$t" -type f | wc -l)
  if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then mkdir -p "$FUZZ_KEEP_CORPUS/$t" && cp -r "$tmp/corpus/$t/." "$FUZZ_KEEP_CORPUS/$t/"; fi
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|invariant broken|runtime error|Test unit written|^    #[0-9] ' "$log" | head -n 40 || true
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    cp "$log" "$artifacts/$t/last-failure.log"
    echo "fuzz: $t: FAILED (exit $rc); reproducer: ${repro:-none written}; log: $artifacts/$t/last-failure.log"
    [ -n "$repro" ] && echo "fuzz: $t: replay with: $bin $repro"
    failed+=("$t")
    summary+=("$(printf '%-16s %8s %10s %8s %6s %6s  %s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$((units - seeds))" "CRASH ${repro:-}")")
  else
    summary+=("$(printf '%-16s %8s %10s %8s %6s %6s  %s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$((units - seeds))" ok)")
  fi
done

echo
echo "fuzz: summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(clang++ --version | head -n 1))"
printf '%-16s %8s %10s %8s %6s %6s  %s\n' target seconds execs exec/s cov +units result
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (reproducers under $artifacts)"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"

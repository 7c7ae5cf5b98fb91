#!/usr/bin/env bash
# Whole sync, build A against build B, on the same machine in the same minutes: on a shared VM the
# speed of a core moves by tens of percent within an hour, so two figures taken apart say little,
# while runs of A and B taken alternately share whatever the machine was doing.
#
# One pinterest-sandbox --fast pinned to CPU 1 (SANDBOX_CPUS); each round runs `synchost sync` of A, then of B
# (ROWS valid orders, fresh state dir, "calls_per_minute": 1000000), pinned to CPU 0 (SYNCHOST_CPUS) under
# /usr/bin/time. Prints every run, then per build the median wall time, rows/s and CPU-s, and the
# ratio B/A of the rows/s medians.
#
# usage: scripts/bench-ab.sh BUILD_DIR_A BUILD_DIR_B [ROUNDS]    (default 5 rounds)
#   ROWS (default 1000000); BENCH_KEEP=1 keeps the temp dir.
#   SYNCHOST_CPUS, SANDBOX_CPUS: the CPU lists (taskset -c) of synchost and the sandbox (default 0
#     and 1); SYNCHOST_CPUS=0,1 SANDBOX_CPUS=0,1 lets both use both cores, as on a 2-core worker.
#   COUNT=instructions: instead of timing, runs each side once under valgrind --tool=callgrind
#     (every thread of synchost, the plugin's included; default ROWS 100000) and prints
#     instructions per row: exact on a machine too busy to time, but blind to what memory and the
#     kernel cost (a memset and its page faults are few instructions), so time the result too.
#   Each build dir needs host/synchost and
#   plugins/libpinterest_conversions.so (+ its manifest), e.g. a build of an older commit:
#     git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build -G Ninja \
#       -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/old/build --target synchost pinterest_conversions
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

[ $# -ge 2 ] || die "usage: $0 BUILD_DIR_A BUILD_DIR_B [ROUNDS]"
rounds=${3:-5}
count=${COUNT:-time}
case $count in
time) rows=${ROWS:-1000000} ;;
instructions) rows=${ROWS:-100000}; rounds=1; bench_need_cmd valgrind ;;
*) die "COUNT is time or instructions, not $count" ;;
esac
bench_need "$SANDBOX"
bench_need_cmd taskset sqlite3 /usr/bin/time
declare -A name_of
for side in A B; do
    dir=$([ $side = A ] && echo "$1" || echo "$2")
    case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
    bench_need "$dir/host/synchost" "$dir/plugins/libpinterest_conversions.so"
    mkdir -p "$BENCH_TMP/$side/plugins"
    cp -p "$dir/host/synchost" "$BENCH_TMP/$side/"
    cp -p "$dir/plugins/libpinterest_conversions.so" "$dir/plugins/pinterest_conversions.json" "$BENCH_TMP/$side/plugins/"
    name_of[$side]=$dir
    echo "# $side: $dir (synchost built $(date -r "$dir/host/synchost" '+%Y-%m-%d %H:%M:%S'))"
done

db=$BENCH_TMP/bench-$rows.db
make_db "$rows" "$db"
start_sandbox "${SANDBOX_CPUS:-1}" --fast --static-token "$BENCH_TOKEN"
# sync_once SIDE NAME WRAPPER...: one sync of build SIDE from an empty state, under WRAPPER (a
# command that runs synchost), its output in $BENCH_TMP/out and $BENCH_TMP/err and its wall time in
# $wall (seconds); dies unless every row was delivered.
sync_once() {
    local side=$1 name=$2
    shift 2
    write_def "$BENCH_TMP/def.json" "$name" "$db" ', "calls_per_minute": 1000000'
    rm -rf "$BENCH_TMP/state"
    local t0
    t0=$(date +%s%N)
    bench_run env "$BENCH_TOKEN_VAR=$BENCH_TOKEN" "$@" "$BENCH_TMP/$side/synchost" sync "$BENCH_TMP/def.json" --json \
        --quiet --state-dir "$BENCH_TMP/state" --plugin-path "$BENCH_TMP/$side/plugins" >"$BENCH_TMP/out" \
        2>"$BENCH_TMP/err" || die "run of $side failed: $(tail -3 "$BENCH_TMP/err")"
    wall=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    grep -q "\"delivered\":$rows," "$BENCH_TMP/out" || die "run of $side did not deliver every row"
}
if [ "$count" = instructions ]; then
    echo "| build | instructions | per row |"
    echo "|---|---:|---:|"
    declare -A irs
    for side in A B; do
        sync_once "$side" "bench-ab-$side" valgrind --tool=callgrind --callgrind-out-file="$BENCH_TMP/cg.$side"
        irs[$side]=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$BENCH_TMP/err")
        echo "| $side ${name_of[$side]} | $(fmt_int "${irs[$side]}") | $(fmt_int "$((irs[$side] / rows))") |"
    done
    echo
    echo "B / A = $(awk -v a="${irs[A]}" -v b="${irs[B]}" 'BEGIN { printf "%.3f", b / a }')x the instructions ($(fmt_int "$rows") rows, start-up included)"
    exit 0
fi
declare -A walls cpus
for round in $(seq "$rounds"); do
    for side in A B; do
        sync_once "$side" "bench-ab-$side-$round" taskset -c "${SYNCHOST_CPUS:-0}" \
            /usr/bin/time -f "%U %S" -o "$BENCH_TMP/time"
        read -r user sys <"$BENCH_TMP/time"
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        walls[$side]+="$wall "
        cpus[$side]+="$cpu "
        printf '  round %d %s: %s s, %s rows/s, synchost %s CPU-s (load average %s)\n' "$round" "$side" "$wall" \
            "$(fmt_int "$(awk -v w="$wall" -v n="$rows" 'BEGIN { print n / w }')")" "$cpu" "$(loadavg)"
    done
done

echo
echo "| build | median s | median rows/s | median synchost CPU-s |"
echo "|---|---:|---:|---:|"
declare -A rate
for side in A B; do
    # shellcheck disable=SC2086
    w=$(median ${walls[$side]})
    # shellcheck disable=SC2086
    c=$(median ${cpus[$side]})
    rate[$side]=$(awk -v w="$w" -v n="$rows" 'BEGIN { print n / w }')
    echo "| $side ${name_of[$side]} | $w | $(fmt_int "${rate[$side]}") | $c |"
done
ratio=$(awk -v a="${rate[A]}" -v b="${rate[B]}" 'BEGIN { printf "%.2f", b / a }')
echo
echo "B / A = ${ratio}x the rows/s ($rounds alternating rounds of $(fmt_int "$rows") rows)"

#!/usr/bin/env bash
# Where the time goes, with perf (sampling on-CPU time, cpu-clock; works without hardware counters):
#   1. abi_throughput (the plugin's pipeline through the C ABI, dry-run sink), pinned to CPU 0;
#   2. a whole synchost sync of ROWS valid orders to pinterest-sandbox --fast over TLS
#      (calls_per_minute 1000000), synchost pinned to CPU 0 and the sandbox to CPU 1; both
#      processes are recorded separately.
# Prints the top functions by self time (perf report --no-children) of each, per shared object, per
# thread, and the inclusive time of the main stages (call graphs from DWARF unwinding).
#
# usage: scripts/bench-profile.sh [abi|sync|all]  (default all)
#   ROWS (sync rows, default 300000), ABI_ROWS (default 1000000), TOP (default 25)
#   BENCH_KEEP=1 keeps the perf.data files for perf report -i ...
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

what=${1:-all}
rows=${ROWS:-300000}
abi_rows=${ABI_ROWS:-1000000}
top=${TOP:-25}
bench_need_cmd perf taskset
event="cpu-clock"

# Percentage lines only, trailing padding dropped, long (template) names cut.
tidy() { grep -E '^ +[0-9.]+%' | sed -E 's/[[:space:]-]+$//' | cut -c1-170; }

# stages PERF_DATA REGEX: inclusive time (children) of the functions whose names match REGEX.
stages() {
    local -
    set +o pipefail  # head closes the pipe early
    echo "-- inclusive time of the main stages (children, self)"
    perf report -i "$1" --stdio --children -g none --sort symbol --percent-limit 0.5 2>/dev/null | tidy |
        grep -E "$2" | grep -vE 'lambda|async_initiate|\(inlined\)' | head -n 30
}

report() {  # report PERF_DATA TITLE [extra perf report args]
    local -
    set +o pipefail  # head closes the pipe early
    local data=$1 title=$2
    shift 2
    echo
    echo "== $title: top $top functions by self time"
    perf report -i "$data" --stdio --no-children -g none --sort dso,symbol --percent-limit 0.3 "$@" 2>/dev/null |
        tidy | head -n "$top"
    echo "-- by shared object"
    perf report -i "$data" --stdio --no-children -g none --sort dso "$@" 2>/dev/null | tidy | head -n 8
}

if [ "$what" = abi ] || [ "$what" = all ]; then
    bench_need "$ABI_THROUGHPUT" "$PLUGIN"
    bench_snapshot ABI_THROUGHPUT PLUGIN
    data=$BENCH_TMP/abi.perf.data
    bench_run taskset -c 0 perf record -q -e "$event" -F 1999 --call-graph dwarf,16384 -o "$data" -- \
        "$ABI_THROUGHPUT" "$PLUGIN" "$abi_rows" 2>&1 | { grep -v '^\[ perf record' || true; }
    report "$data" "abi_throughput ($abi_rows events)"
    stages "$data" 'pcapi::|EVP_|SHA256|OPENSSL_cleanse|malloc|free'
fi

if [ "$what" = sync ] || [ "$what" = all ]; then
    bench_need "$SYNCHOST" "$PLUGIN" "$SANDBOX"
    bench_snapshot SYNCHOST PLUGIN SANDBOX
    bench_need_cmd sqlite3 curl jq
    db=$BENCH_TMP/bench-$rows.db
    make_db "$rows" "$db"
    start_sandbox 1 --fast --static-token "$BENCH_TOKEN"
    sb_data=$BENCH_TMP/sandbox.perf.data
    bench_spawn perf record -q -e "$event" -F 4999 -o "$sb_data" -p "$SANDBOX_PID" 2>/dev/null
    perf_pid=$BENCH_LAST_PID
    sleep 0.5
    def=$BENCH_TMP/profile.json
    write_def "$def" bench-profile "$db" ', "calls_per_minute": 1000000'
    data=$BENCH_TMP/synchost.perf.data
    bench_run env "$BENCH_TOKEN_VAR=$BENCH_TOKEN" taskset -c 0 perf record -q -e "$event" -F 999 --call-graph dwarf,16384 -o "$data" -- \
        "$SYNCHOST" sync "$def" --json --quiet --state-dir "$BENCH_TMP/state" --plugin-path "$(dirname "$PLUGIN")" >"$BENCH_TMP/sync.out"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    bench_untrack "$perf_pid"
    stop_sandbox
    echo "sync: $(cat "$BENCH_TMP/sync.out")" | cut -c1-300
    report "$data" "synchost sync ($rows rows), all threads"
    stages "$data" 'synchost::|pcapi::(Instance|Pipeline|EventBuilder|Sha256|transport|.*HttpsDelivery::on_response)|sqlite3_step|SSL_write|SSL_read|io_context::run|_Hashtable'
    echo "-- by thread (main: source, plugin encode, state; the other: the plugin's HTTPS I/O)"
    perf report -i "$data" --stdio --no-children -g none --sort pid 2>/dev/null | tidy | sed -n '1,8p'
    report "$sb_data" "pinterest-sandbox --fast during that sync"
fi

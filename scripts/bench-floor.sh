#!/usr/bin/env bash
# The floor under synchost's CPU per event: each part a sync must do, done alone in the cheapest
# way known here (build/bin/parts_floor: read the model's rows from SQLite through synchost's read-ahead VFS,
# record the delivered keys as synchost's checkpoints do, send the events' bytes over loopback TLS
# 1.3; each the CPU of the thread doing it), plus the plugin's encode alone (build/bin/abi_throughput,
# the process's CPU under /usr/bin/time). Prints each part's median over RUNS runs in CPU-seconds
# per 1M events and their sum: what synchost would spend if it did these and nothing else.
# Compare with `RUNS=3 scripts/bench-sync.sh 1000000` (the whole sync) in the same hour, or let
# WITH_SYNC=1 run one such sync after each run of the parts and print synchost's CPU per 1M events
# as a multiple of the parts' sum, which moves less than either as this VM's speed moves (still by
# about a tenth: docs/performance.md, "What the parts cost alone").
#
# usage: scripts/bench-floor.sh [RUNS]          (default 3)
#   WITH_SYNC=1      also `RUNS=1 scripts/bench-sync.sh ROWS` after each run (same BUILD_DIR)
#   ROWS             events (default 1000000; the bench database of that many orders is made once)
#   BYTES_PER_EVENT  bytes sent per event (default: the bench orders' request bodies, measured by a
#                    `synchost sync --dry-run` of its first 10,000 rows; the HTTP headers add about
#                    0.3 bytes per event and are left out)
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

runs=${1:-3}
rows=${ROWS:-1000000}
bench_need "$PARTS_FLOOR" "$ABI_THROUGHPUT" "$PLUGIN" "$SYNCHOST"
bench_snapshot PARTS_FLOOR ABI_THROUGHPUT PLUGIN SYNCHOST
bench_need_cmd taskset sqlite3 /usr/bin/time
db=$BENCH_TMP/bench-$rows.db
make_db "$rows" "$db"
if [ -n "${BYTES_PER_EVENT:-}" ]; then
    bytes=$BYTES_PER_EVENT
else
    # A dry run sends nothing: the URL and CA only have to be well-formed.
    SANDBOX_URL=https://127.0.0.1:9 SANDBOX_CA=/etc/ssl/certs/ca-certificates.crt
    write_def "$BENCH_TMP/dry.json" bench-floor "$db" ''
    sample=$((rows < 10000 ? rows : 10000))
    env "$BENCH_TOKEN_VAR=$BENCH_TOKEN" "$SYNCHOST" sync "$BENCH_TMP/dry.json" --dry-run --limit "$sample" --quiet \
        --state-dir "$BENCH_TMP/dry-state" --plugin-path "$(dirname "$PLUGIN")" >"$BENCH_TMP/bodies" 2>/dev/null ||
        die "the dry run that measures the request bodies failed"
    bytes=$(awk -v n="$sample" -v b="$(wc -c <"$BENCH_TMP/bodies")" 'BEGIN { printf "%.0f", b / n }')
fi

echo "parts alone: $(fmt_int "$rows") events, $bytes bytes each, $runs runs (load average: $(loadavg))"
declare -A figures
parts=(read-256k keys tcp tls encode)
for i in $(seq "$runs"); do
    # parts_floor pins its measuring thread to CPU 0 and the receiving end (the destination's
    # part) to CPU 1.
    out=$(taskset -c 0,1 "$PARTS_FLOOR" "$db" "$rows" "$bytes" 2>"$BENCH_TMP/parts.err") ||
        die "parts_floor failed: $(cat "$BENCH_TMP/parts.err")"
    for p in read-256k keys tcp tls; do
        figures[$p]+="$(awk -F'|' -v p="$p" '$2 ~ "^ " p " $" { gsub(/ /, "", $3); print $3 }' <<<"$out") "
    done
    taskset -c 0 /usr/bin/time -f '%U %S' -o "$BENCH_TMP/time" "$ABI_THROUGHPUT" "$PLUGIN" "$rows" >/dev/null 2>&1
    figures[encode]+="$(awk -v n="$rows" '{ printf "%.3f", ($1 + $2) * 1e6 / n }' "$BENCH_TMP/time") "
    line="  run $i:"
    for p in "${parts[@]}"; do line+=" $p $(awk '{ print $NF }' <<<"${figures[$p]}")"; done
    if [ "${WITH_SYNC:-0}" = 1 ]; then
        # The table row of the whole sync: | rows | rows/s | synchost CPU-s / 1M events | ...
        sync_out=$(RUNS=1 "$BENCH_ROOT/scripts/bench-sync.sh" "$rows" 2>&1) || die "bench-sync.sh failed: $sync_out"
        cpu=$(awk -F'|' '$2 ~ /^ [0-9,]+ $/ && $4 ~ /[0-9]/ { gsub(/ /, "", $4); print $4; exit }' <<<"$sync_out")
        [ -n "$cpu" ] || die "no synchost CPU figure in bench-sync.sh's output: $sync_out"
        figures[sync]+="$cpu "
        line+=" | whole sync $cpu"
    fi
    echo "$line"
done

echo
echo "| part (alone) | median CPU-s per 1M events |"
echo "|---|---:|"
sum=0
for p in "${parts[@]}"; do
    # shellcheck disable=SC2086
    m=$(median ${figures[$p]})
    echo "| $p | $m |"
    # tcp is inside tls: counted once
    [ "$p" = tcp ] || sum=$(awk -v a="$sum" -v b="$m" 'BEGIN { printf "%.3f", a + b }')
done
echo "| **sum: read-256k + keys + tls + encode** | **$sum** |"
echo
echo "A sync does at least these; synchost's CPU per 1M events above $sum is what it adds around them."
if [ "${WITH_SYNC:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    whole=$(median ${figures[sync]})
    echo "The whole sync (synchost, all threads, median of $runs): $whole CPU-s per 1M events," \
        "$(awk -v a="$whole" -v b="$sum" 'BEGIN { printf "%.2f", a / b }')x the parts' sum."
fi

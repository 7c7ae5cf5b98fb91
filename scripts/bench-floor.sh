#!/usr/bin/env bash
# The floor under synchost's CPU per event: each part a sync must do, done alone in the plainest
# way (build/bin/parts_floor: read the model's rows from SQLite through synchost's read-ahead VFS,
# record the delivered keys as synchost's checkpoints do, send the events' bytes over loopback TLS
# 1.3; each the CPU of the thread doing it), plus the plugin's encode alone (build/bin/abi_throughput,
# the process's CPU under /usr/bin/time). Prints each part's median over RUNS runs in CPU-seconds
# per 1M events and their sum: what synchost would spend if it did these and nothing else.
# Compare with `RUNS=3 scripts/bench-sync.sh 1000000` (the whole sync) in the same hour.
#
# usage: scripts/bench-floor.sh [RUNS]          (default 3)
#   ROWS             events (default 1000000; the bench database of that many orders is made once)
#   BYTES_PER_EVENT  bytes sent per event (default 447: the bench orders' request bodies, headers
#                    included, as bench-sync.sh's sandbox counts them)
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

runs=${1:-3}
rows=${ROWS:-1000000}
bytes=${BYTES_PER_EVENT:-447}
bench_need "$PARTS_FLOOR" "$ABI_THROUGHPUT" "$PLUGIN"
bench_snapshot PARTS_FLOOR ABI_THROUGHPUT PLUGIN
bench_need_cmd taskset sqlite3 /usr/bin/time
db=$BENCH_TMP/bench-$rows.db
make_db "$rows" "$db"

echo "parts alone: $(fmt_int "$rows") events, $bytes bytes each, $runs runs (load average: $(loadavg))"
declare -A figures
parts=(read-256k keys tcp tls encode)
for i in $(seq "$runs"); do
    # The sending thread on CPU 0, the reading end (the destination's part) free to use CPU 1.
    out=$(taskset -c 0,1 "$PARTS_FLOOR" "$db" "$rows" "$bytes" 2>/dev/null)
    for p in read-256k keys tcp tls; do
        figures[$p]+="$(awk -F'|' -v p="$p" '$2 ~ "^ " p " $" { gsub(/ /, "", $3); print $3 }' <<<"$out") "
    done
    taskset -c 0 /usr/bin/time -f '%U %S' -o "$BENCH_TMP/time" "$ABI_THROUGHPUT" "$PLUGIN" "$rows" >/dev/null 2>&1
    figures[encode]+="$(awk -v n="$rows" '{ printf "%.3f", ($1 + $2) * 1e6 / n }' "$BENCH_TMP/time") "
    line="  run $i:"
    for p in "${parts[@]}"; do line+=" $p $(awk '{ print $NF }' <<<"${figures[$p]}")"; done
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

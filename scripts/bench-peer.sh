#!/usr/bin/env bash
# Side by side with the best open-source peer, in one run on one core: Segment's Pinterest
# Conversions action (../shared/peers/segment/run.sh: map + validate + normalize + hash + serialize,
# HTTP stubbed, one event per request, Node) and our plugin through the C ABI (abi_throughput: the
# same stages, dry-run sink). Alternates A B A B ... PAIRS times, both pinned to the same CPU; the
# first pair is a warm-up and is not counted. Prints each figure and the median ratio ours/Segment's.
# Target: >= 50x.
#
# usage: scripts/bench-peer.sh [PAIRS]            (default 4: 1 warm-up + 3 counted)
#   PEER_DIR   the peer harness (default: ../shared/peers/segment beside the repo)
#   PEER_ROWS  rows per Segment run (default 20000: ~1 s at its ~22,000 rows/s)
#   ROWS       events per abi_throughput run (default 1000000)
#   CPU        core for both (default 0)
# The peer installs @segment/action-destinations from the npm registry into /tmp/segment-peer on
# first use (~100 MB); that install happens before the timed runs.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

pairs=${1:-4}
[ "$pairs" -ge 2 ] || die "PAIRS must be at least 2 (the first pair is a warm-up)"
peer_dir=${PEER_DIR:-$BENCH_ROOT/../shared/peers/segment}
peer_rows=${PEER_ROWS:-20000}
rows=${ROWS:-1000000}
cpu=${CPU:-0}
bench_need "$ABI_THROUGHPUT" "$PLUGIN" "$peer_dir/run.sh"
bench_snapshot ABI_THROUGHPUT PLUGIN
bench_need_cmd taskset node npm

echo "== preparing the peer (npm install on first use)"
bash "$peer_dir/run.sh" 100 >/dev/null

peer() {
    local line
    line=$(taskset -c "$cpu" bash "$peer_dir/run.sh" "$peer_rows")
    sed -n 's/.* = \([0-9.]*\) rows\/s.*/\1/p' <<<"$line"
}
ours() {
    local line
    line=$(taskset -c "$cpu" "$ABI_THROUGHPUT" "$PLUGIN" "$rows")
    sed -n 's/.* = \([0-9.]*\) events\/s.*/\1/p' <<<"$line"
}

echo "== $pairs pairs on CPU $cpu: Segment $peer_rows rows/run (A), ours $rows events/run (B); pair 1 is a warm-up (load average: $(loadavg))"
printf '%-6s %16s %16s %8s\n' pair "Segment rows/s" "ours events/s" ratio
seg_rates=() our_rates=() ratios=()
for p in $(seq "$pairs"); do
    a=$(peer)
    b=$(ours)
    { [ -n "$a" ] && [ -n "$b" ]; } || die "could not read a figure (Segment: '$a', ours: '$b')"
    r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b / a }')
    if [ "$p" = 1 ]; then
        printf '%-6s %16s %16s %7sx  (warm-up, not counted)\n' "$p" "$(fmt_int "$a")" "$(fmt_int "$b")" "$r"
    else
        printf '%-6s %16s %16s %7sx\n' "$p" "$(fmt_int "$a")" "$(fmt_int "$b")" "$r"
        seg_rates+=("$a") our_rates+=("$b") ratios+=("$r")
    fi
done
med=$(printf "%.1f" "$(median "${ratios[@]}")")
lo=$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n 1p)
hi=$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n '$p')
echo "median: Segment $(fmt_int "$(median "${seg_rates[@]}")") rows/s, ours $(fmt_int "$(median "${our_rates[@]}")") events/s"
echo "ratio ours/Segment: median ${med}x (min ${lo}x, max ${hi}x, $((pairs - 1)) pairs)"
if awk -v m="$med" 'BEGIN { exit !(m >= 50) }'; then
    echo "target >= 50x: MET"
else
    echo "target >= 50x: MISSED (${med}x)"
fi

#!/usr/bin/env bash
# Regression guard in instructions, exact even on a noisy shared machine: runs abi_throughput under
# valgrind --tool=callgrind for SMALL and 2 x SMALL events (batches of BATCH rows), and takes
# instructions per event = (Ir(2 x SMALL) - Ir(SMALL)) / SMALL, which cancels start-up, dlopen,
# open() and the first batch's buffer growth. Compares it with bench/callgrind-baseline.txt and
# fails when it is more than 3% above; prints the top functions (self cost) of the larger run.
#
# usage: scripts/bench-callgrind.sh [--update] [--top N]
#   --update   (re)write bench/callgrind-baseline.txt with the measured figure
#   --top N    functions to list (default 20; 0: none)
#   SMALL (default 10000), BATCH (default 1000)
# Exit status: 0 within +3% (or --update), 1 on a regression or failure.
# Under valgrind OpenSSL sees valgrind's CPU (no SHA-NI, no AVX-512), so SHA-256 counts are those
# of its portable/AVX2 code: compare figures from the same machine and valgrind version only.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

update=0
top=20
while [ $# -gt 0 ]; do
    case $1 in
    --update) update=1 ;;
    --top) top=$2; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
small=${SMALL:-10000}
batch=${BATCH:-1000}
[ $((small % batch)) = 0 ] || die "SMALL ($small) must be a multiple of BATCH ($batch)"
baseline=$BENCH_ROOT/bench/callgrind-baseline.txt
tolerance=3
bench_need "$ABI_THROUGHPUT" "$PLUGIN"
bench_snapshot ABI_THROUGHPUT PLUGIN
bench_need_cmd valgrind callgrind_annotate

# instructions EVENTS: total instructions (Ir) of abi_throughput for EVENTS events.
instructions() {
    local f=$BENCH_TMP/callgrind.$1
    valgrind --tool=callgrind --callgrind-out-file="$f" "$ABI_THROUGHPUT" "$PLUGIN" "$1" "$batch" \
        >"$f.stdout" 2>"$f.stderr" || { cat "$f.stderr" >&2; die "abi_throughput failed under valgrind ($1 events)"; }
    awk '/^(summary|totals):/ { print $2; exit }' "$f"
}

echo "== callgrind: abi_throughput $small and $((2 * small)) events, batches of $batch"
ir1=$(instructions "$small")
ir2=$(instructions $((2 * small)))
per_event=$(awk -v a="$ir1" -v b="$ir2" -v n="$small" 'BEGIN { printf "%.1f", (b - a) / n }')
startup=$(awk -v a="$ir1" -v p="$per_event" -v n="$small" 'BEGIN { printf "%.0f", a - p * n }')
printf 'Ir(%d) = %s, Ir(%d) = %s\n' "$small" "$(fmt_int "$ir1")" $((2 * small)) "$(fmt_int "$ir2")"
echo "instructions per event: $per_event (fixed cost outside the per-event path: $(fmt_int "$startup"))"

top_functions() {
    local -
    set +o pipefail  # head closes the pipe early
    echo
    echo "== top $top functions by self instructions ($((2 * small)) events; includes start-up)"
    # "N (P%)  file:function(args) [object]" -> "P%  N  function  [object]"
    callgrind_annotate --inclusive=no --threshold=100 "$BENCH_TMP/callgrind.$((2 * small))" 2>/dev/null |
        awk '/^ *[0-9,]+ +\( *[0-9.]+%\) / && $0 !~ /PROGRAM TOTALS/ {
            count = $1; match($0, /[0-9.]+%/); pct = substr($0, RSTART, RLENGTH)
            line = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
            obj = ""
            if (match(line, / \[[^]]*\]$/)) { obj = substr(line, RSTART + 2, RLENGTH - 3); line = substr(line, 1, RSTART - 1) }
            n = split(obj, parts, "/"); obj = parts[n]
            i = index(line, ":"); fn = substr(line, i + 1)
            j = index(fn, "("); if (j > 1) fn = substr(fn, 1, j - 1)
            printf "%7s  %14s  %s%s\n", pct, count, fn, obj == "" ? "" : "  [" obj "]"
        }' | head -n "$top"
}
[ "$top" -le 0 ] || top_functions

echo
valgrind_version=$(valgrind --version)
if [ "$update" = 1 ]; then
    mkdir -p "$(dirname "$baseline")"
    cat >"$baseline" <<EOF
# Instructions per event of abi_throughput (plugin pipeline through the C ABI, dry-run sink),
# (Ir(2N) - Ir(N)) / N with N=$small, batches of $batch, under $valgrind_version.
# Written by scripts/bench-callgrind.sh --update; checked by scripts/bench-callgrind.sh (fails at +$tolerance%).
# Measured $(date -u +%Y-%m-%d) at $(git -C "$BENCH_ROOT" rev-parse --short HEAD)$(git -C "$BENCH_ROOT" diff --quiet HEAD -- plugins support plugin_api 2>/dev/null || echo ' (with uncommitted changes)') on $(uname -m).
instructions_per_event $per_event
EOF
    echo "baseline written: $baseline ($per_event instructions per event)"
    exit 0
fi

[ -f "$baseline" ] || die "no baseline at $baseline: run with --update to create one"
base=$(awk '$1 == "instructions_per_event" { print $2 }' "$baseline")
[ -n "$base" ] || die "no instructions_per_event line in $baseline"
delta=$(awk -v c="$per_event" -v b="$base" 'BEGIN { printf "%+.2f", 100 * (c - b) / b }')
echo "baseline: $base instructions per event; now $per_event ($delta%)"
if awk -v d="$delta" -v t="$tolerance" 'BEGIN { exit !(d > t) }'; then
    echo "REGRESSION: more than +$tolerance% instructions per event" >&2
    exit 1
fi
if awk -v d="$delta" -v t="$tolerance" 'BEGIN { exit !(d < -t) }'; then
    echo "OK, and more than $tolerance% better than the baseline: consider scripts/bench-callgrind.sh --update"
else
    echo "OK (within +$tolerance%)"
fi

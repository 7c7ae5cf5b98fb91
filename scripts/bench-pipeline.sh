#!/usr/bin/env bash
# The plugin's pipeline through the C ABI on one core: build/bin/abi_throughput loads the plugin as
# a host does and pushes typical rows (email + phone to normalize and hash, six custom-data fields)
# through write_batch, with the transport replaced by the dry-run sink. Runs it RUNS times pinned
# to CPU 0 and prints each figure and the median events/s against the target (>= 1.5M events/s),
# with events per CPU-second beside it (what the core could do if nothing else ran on it).
#
# usage: scripts/bench-pipeline.sh [RUNS]        (default 5)
#   ROWS   events per run (default 1000000)
#   BATCH  rows per write_batch (default 8000, the plugin's recommended batch)
#   CPU    core to pin to (default 0)
# Exit status: 0 whether or not the target is met (the verdict is printed); 1 on failures.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

runs=${1:-5}
rows=${ROWS:-1000000}
batch=${BATCH:-8000}
cpu=${CPU:-0}
target=1500000
bench_need "$ABI_THROUGHPUT" "$PLUGIN"
bench_snapshot ABI_THROUGHPUT PLUGIN
bench_need_cmd taskset /usr/bin/time

echo "abi_throughput: $rows events per run, batch $batch, pinned to CPU $cpu, $runs runs (load average: $(loadavg))"
rates=() ns=() cpu_rates=()
for i in $(seq "$runs"); do
    line=$(taskset -c "$cpu" /usr/bin/time -f '%U %S' -o "$BENCH_TMP/time" "$ABI_THROUGHPUT" "$PLUGIN" "$rows" "$batch")
    # "N events in S s = R events/s (X ns/event), A accepted, B bytes/event"
    rate=$(sed -n 's/.* = \([0-9.]*\) events\/s.*/\1/p' <<<"$line")
    # Events per CPU-second of the whole process (set-up included): insensitive to other work
    # sharing the core, unlike the wall-clock figure abi_throughput prints.
    cpu_rate=$(awk -v n="$rows" '{ printf "%.0f", n / ($1 + $2) }' "$BENCH_TMP/time")
    echo "  run $i: ${line#abi_throughput: }; $(fmt_int "$cpu_rate") events per CPU-second"
    rates+=("$rate")
    ns+=("$(sed -n 's/.*(\([0-9.]*\) ns\/event).*/\1/p' <<<"$line")")
    cpu_rates+=("$cpu_rate")
done
med=$(median "${rates[@]}")
cpu_med=$(median "${cpu_rates[@]}")
printf 'median: %s events/s (%s ns/event), min %s, max %s; %s events per CPU-second\n' "$(fmt_int "$med")" \
    "$(median "${ns[@]}")" "$(fmt_int "$(printf '%s\n' "${rates[@]}" | sort -g | sed -n 1p)")" \
    "$(fmt_int "$(printf '%s\n' "${rates[@]}" | sort -g | sed -n '$p')")" "$(fmt_int "$cpu_med")"
if awk -v m="$med" -v t="$target" 'BEGIN { exit !(m >= t) }'; then
    echo "target >= $(fmt_int $target) events/s on one core: MET"
else
    echo "target >= $(fmt_int $target) events/s on one core: MISSED ($(awk -v m="$med" -v t="$target" 'BEGIN { printf "%.0f%%", 100 * m / t }') of it; per CPU-second: $(awk -v m="$cpu_med" -v t="$target" 'BEGIN { printf "%.0f%%", 100 * m / t }'))"
fi

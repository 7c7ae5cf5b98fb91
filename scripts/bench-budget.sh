#!/usr/bin/env bash
# Does a sync at its DEFAULT settings use Pinterest's API budget? pinterest-sandbox enforces 5,000
# calls per minute per ad account (--rate-limit 5000: a token bucket of 83.3/s, 83 deep) and answers
# every events request 100 ms late (--latency-ms 100, a realistic round trip); synchost syncs ROWS
# valid orders with no transport override (calls_per_minute, max_in_flight, ... all default).
# Reports achieved events/s as a share of the cap (5,000 x 1,000 / 60 = 83,333 events/s) over the
# whole run (wall clock of synchost, start-up included) and in steady state (sandbox arrivals, first
# to last), and the number of 429 answers. Target: >= 95% of the cap with zero 429s.
#
# usage: scripts/bench-budget.sh [ROWS]           (default 1000000: about 12 s at the cap)
#   LATENCY_MS (default 100), RATE_LIMIT (calls/min, default 5000)
#   For experiments only (the target is about the defaults): BUDGET_CONFIG, a JSON fragment added to
#   the destination config (', "max_in_flight": 16'), BUDGET_DEF, one added to the definition
#   (', "batch_size": 16000').
# Exit status 0 whether or not the target is met; 1 when the run fails or a row is not delivered.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

rows=${1:-1000000}
latency_ms=${LATENCY_MS:-100}
rate_limit=${RATE_LIMIT:-5000}
bench_need "$SYNCHOST" "$PLUGIN" "$SANDBOX"
bench_snapshot SYNCHOST PLUGIN SANDBOX
bench_need_cmd taskset sqlite3 curl jq /usr/bin/time

cap=$(awk -v r="$rate_limit" 'BEGIN { printf "%.0f", r * 1000 / 60 }')
db=$BENCH_TMP/bench-$rows.db
echo "== generating $rows rows"
make_db "$rows" "$db"

start_sandbox 1 --fast --static-token "$BENCH_TOKEN" --latency-ms "$latency_ms" --rate-limit "$rate_limit"
def=$BENCH_TMP/budget.json
write_def "$def" bench-budget "$db" "${BUDGET_CONFIG:-}" "${BUDGET_DEF:-}"
[ -z "${BUDGET_CONFIG:-}${BUDGET_DEF:-}" ] || echo "NOT the defaults: config${BUDGET_CONFIG:- unchanged}; definition${BUDGET_DEF:- unchanged}"
out=$BENCH_TMP/budget.out
echo "== synchost sync (transport settings: ${BUDGET_CONFIG:-defaults}) against $SANDBOX_URL: latency ${latency_ms} ms, rate limit ${rate_limit} calls/min (load average: $(loadavg))"
t0=$(date +%s%N)
rc=0
bench_run env "$BENCH_TOKEN_VAR=$BENCH_TOKEN" taskset -c 0 /usr/bin/time -v -o "$BENCH_TMP/time.txt" \
    "$SYNCHOST" sync "$def" --json --quiet --state-dir "$BENCH_TMP/state" --plugin-path "$(dirname "$PLUGIN")" >"$out" 2>"$out.err" || rc=$?
t1=$(date +%s%N)
stats=$(sandbox_get /_sandbox/stats)
sandbox_get /_sandbox/log >"$BENCH_TMP/log.json"
stop_sandbox
if [ "$rc" != 0 ]; then
    cat "$out.err" >&2
    die "synchost sync exited $rc: $(cat "$out")"
fi
delivered=$(jq -r .delivered "$out")
[ "$delivered" = "$rows" ] || die "delivered $delivered of $rows rows: $(cat "$out")"

secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
rate=$(awk -v n="$rows" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
limited=$(jq -r '.rate_limited' <<<"$stats")
max_conc=$(jq -r '.max_concurrent_requests' <<<"$stats")
# Steady state: events answered 200 after the first request, over first-to-last arrival.
read -r steady n200 span < <(jq -r '
    [.[] | select(.endpoint == "events")] | sort_by(.t_ms) as $a
    | ($a | map(select(.status == 200))) as $ok
    | (($a[-1].t_ms - $a[0].t_ms) / 1000) as $span
    | (($ok | map(.events) | add) - ($ok[0].events)) as $ev
    | "\(if $span > 0 then $ev / $span else 0 end | floor) \($ok | length) \($span)"' "$BENCH_TMP/log.json")
# Stalls: gaps between request arrivals longer than 2.5 pacing intervals, and the time they cost.
interval_ms=$(awk -v r="$rate_limit" 'BEGIN { print 60000 / r }')
read -r stalls stall_ms < <(jq -r '[.[] | select(.endpoint == "events") | .t_ms] | sort | . as $t
    | [range(1; length) | $t[.] - $t[. - 1]] | map(select(. > 2.5 * '"$interval_ms"'))
    | "\(length) \(map(. - '"$interval_ms"') | add // 0 | floor)"' "$BENCH_TMP/log.json")
pct=$(awk -v r="$rate" -v c="$cap" 'BEGIN { printf "%.1f", 100 * r / c }')
spct=$(awk -v r="$steady" -v c="$cap" 'BEGIN { printf "%.1f", 100 * r / c }')

echo "delivered $(fmt_int "$rows") events in $secs s"
echo "whole run:    $(fmt_int "$rate") events/s = $pct% of the cap ($(fmt_int "$cap") events/s)"
echo "steady state: $(fmt_int "$steady") events/s = $spct% of the cap ($n200 requests answered 200 over ${span} s of arrivals)"
echo "outside steady state: $(awk -v w="$secs" -v s="$span" 'BEGIN { printf "%.2f", w - s }') s (start-up to the first request, and the last answers, of the $secs s run)"
echo "stalls:       $stalls gaps between requests longer than $(awk -v i="$interval_ms" 'BEGIN { print 2.5 * i }') ms (2.5 pacing intervals), costing $(awk -v m="$stall_ms" 'BEGIN { printf "%.2f", m / 1000 }') s in all"
echo "429 answers:  $limited; most concurrent requests seen by the sandbox: $max_conc"
echo "sandbox stats: $stats"
[ -z "${BUDGET_CONFIG:-}${BUDGET_DEF:-}" ] || echo "(an experiment with non-default settings: the target is judged on the defaults)"
if awk -v p="$pct" 'BEGIN { exit !(p >= 95) }' && [ "$limited" = 0 ]; then
    echo "target >= 95% of the cap with zero 429s: MET"
else
    echo "target >= 95% of the cap with zero 429s: MISSED ($pct% over the whole run, $limited answers 429)"
fi

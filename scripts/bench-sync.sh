#!/usr/bin/env bash
# The whole sync over TLS: for each ROWS, a SQLite database of ROWS valid orders
# (tests/bench/make_bench_db.sql), pinterest-sandbox --fast pinned to CPU 1, and
# `synchost sync --json --quiet` pinned to CPU 0 under /usr/bin/time -v, with a fresh state dir and
# "calls_per_minute": 1000000 so the API budget does not cap the throughput. Reports rows/s,
# CPU-seconds per million events of each process, peak RSS of each, and p50/p99 request latency
# from the plugin's histogram (metrics pinterest.request_ms.le_*).
#
# usage: scripts/bench-sync.sh [ROWS...]          (default: 100000 1000000)
#   RUNS  runs per size (default 1); the table shows the median of each figure
#   FANOUT=N  one sync fanned out to N ad accounts (default 0: one account): the rows name their
#         account round-robin in a column mapped to ad_account_id, the sandbox knows all N, and every
#         account must receive exactly its rows
#   SYNCHOST_CPUS, SANDBOX_CPUS  taskset CPU lists (default 0 and 1); "0,1" for both to share both cores
#   BATCH_SIZE  the sync's batch_size (default: the plugin's recommendation, 8,000 rows)
#   BENCH_KEEP=1 keeps the temp dir (databases, definitions, outputs)
# Targets: >= 400,000 rows/s; peak RSS of synchost <= 64 MiB for 1,000,000 rows and within 10% of
# the 100,000-row figure. Exit status 0 whether or not they are met; 1 when a run fails or a row is
# not delivered.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

[ $# -gt 0 ] || set -- 100000 1000000
runs=${RUNS:-1}
fanout=${FANOUT:-0}
host_cpus=${SYNCHOST_CPUS:-0}
sandbox_cpus=${SANDBOX_CPUS:-1}
sandbox_accounts=() fanout_mapping=''
if [ "$fanout" -gt 0 ]; then
    sandbox_accounts=(--ad-account 549755885175)
    for i in $(seq 0 $((fanout - 1))); do sandbox_accounts+=(--ad-account $((1000000000 + i))); done
    fanout_mapping=', "ad_account_id": "account"'
fi
bench_need "$SYNCHOST" "$PLUGIN" "$SANDBOX"
bench_snapshot SYNCHOST PLUGIN SANDBOX
bench_need_cmd taskset sqlite3 curl jq /usr/bin/time

# latency P HIST_JSON TOTAL_REQUESTS: the P-quantile upper bound (ms) from the histogram
# {"1": n, "2": n, ..., "inf": n}. Per-bucket counts (each request counted once, in the smallest
# bucket that holds it) or cumulative counts (Prometheus "le"): told apart by comparing the sum and
# the largest count with the number of requests.
latency() {
    jq -r --argjson p "$1" --argjson total "$3" '
      to_entries | map({le: (if .key == "inf" then 1e18 else (.key | tonumber) end), n: .value}) | sort_by(.le)
      | (map(.n) | add) as $sum | (map(.n) | max) as $max
      | (if $sum == $total or $max != $total then
           reduce .[] as $b ([]; . + [{le: $b.le, c: ((if length > 0 then .[-1].c else 0 end) + $b.n)}])
         else map({le, c: .n}) end) as $cum
      | ($cum[-1].c) as $all
      | if $all == 0 then "n/a" else
          first($cum[] | select(.c >= $p * $all)) | (if .le >= 1e18 then "inf" else "<=\(.le)" end)
        end' <<<"$2"
}

summary=()
declare -A rss_by_rows rate_by_rows
for rows in "$@"; do
    db=$BENCH_TMP/bench-$rows${fanout/#[1-9]*/-fanout$fanout}.db
    echo "== $rows rows${fanout/#[1-9]*/ over $fanout ad accounts}: generating $db (load average: $(loadavg))"
    if [ "$fanout" -gt 0 ] && [ ! -s "$db" ]; then
        make_db "$rows" "$db"
        sqlite3 "$db" "ALTER TABLE orders ADD COLUMN account TEXT; UPDATE orders SET account = CAST(1000000000 + rowid % $fanout AS TEXT);"
    fi
    make_db "$rows" "$db"
    r_rate=() r_cpu_host=() r_cpu_sb=() r_rss=() r_rss_sb=() r_p50=() r_p99=()
    for run in $(seq "$runs"); do
        start_sandbox "$sandbox_cpus" --fast --static-token "$BENCH_TOKEN" "${sandbox_accounts[@]}"
        def=$BENCH_TMP/sync-$rows-$run.json
        write_def "$def" "bench-sync-$rows" "$db" ', "calls_per_minute": 1000000' \
            "${BATCH_SIZE:+, \"batch_size\": $BATCH_SIZE}" "$fanout_mapping"
        state=$BENCH_TMP/state-$rows-$run
        out=$BENCH_TMP/sync-$rows-$run.out
        tv=$BENCH_TMP/time-$rows-$run.txt
        sb0=$(cpu_ticks "$SANDBOX_PID")
        t0=$(date +%s%N)
        rc=0
        bench_run env "$BENCH_TOKEN_VAR=$BENCH_TOKEN" taskset -c "$host_cpus" /usr/bin/time -v -o "$tv" \
            "$SYNCHOST" sync "$def" --json --quiet --state-dir "$state" --plugin-path "$(dirname "$PLUGIN")" >"$out" 2>"$out.err" || rc=$?
        t1=$(date +%s%N)
        sb1=$(cpu_ticks "$SANDBOX_PID")
        sb_rss=$(vm_hwm_kb "$SANDBOX_PID")
        stats=$(sandbox_get /_sandbox/stats)
        stop_sandbox
        if [ "$rc" != 0 ]; then
            cat "$out.err" >&2
            die "synchost sync exited $rc ($rows rows); output: $(cat "$out")"
        fi
        delivered=$(jq -r .delivered "$out")
        [ "$delivered" = "$rows" ] || die "delivered $delivered of $rows rows: $(cat "$out")"

        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        user=$(time_field "$tv" "User time (seconds)")
        sys=$(time_field "$tv" "System time (seconds)")
        rss=$(time_field "$tv" "Maximum resident set size (kbytes)")
        rate=$(awk -v n="$rows" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
        cpu_host=$(awk -v u="$user" -v s="$sys" -v n="$rows" 'BEGIN { printf "%.2f", (u + s) * 1e6 / n }')
        cpu_sb=$(awk -v a="$sb0" -v b="$sb1" -v t="$CLK_TCK" -v n="$rows" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / n }')
        requests=$(jq -r '.requests.events // 0' <<<"$stats")
        processed=$(jq -r '.events_processed // 0' <<<"$stats")
        [ "$processed" -ge "$rows" ] || die "the sandbox processed $processed of $rows events: $stats"
        if [ "$fanout" -gt 0 ]; then  # each account exactly its rows (rowid % N), none elsewhere
            jq -e --argjson n "$fanout" --argjson rows "$rows" '
              .events_by_account as $a
              | ([range(0; $n) as $i | ($a["\(1000000000 + $i)"] // 0)
                  == (if $i == 0 then ($rows / $n | floor) else (($rows - $i) / $n | floor) + 1 end)]
                 | all) and (($a | add) == $rows)' <<<"$stats" >/dev/null ||
                die "the events did not reach their accounts exactly: $(jq -c .events_by_account <<<"$stats")"
        fi

        if jq -e 'has("metrics")' "$out" >/dev/null; then
            # One object per histogram ({"le_50": n, ...}); older builds printed flat NAME.le_B keys.
            hist=$(jq -c '.metrics | (.["pinterest.request_ms"] // {} | with_entries(.key |= ltrimstr("le_")))
                          + with_entries(select(.key | startswith("pinterest.request_ms.le_")) | .key |= ltrimstr("pinterest.request_ms.le_"))' "$out")
            nreq=$(jq -r '.metrics["pinterest.requests"] // 0' "$out")
            [ "$nreq" != 0 ] || nreq=$requests
            if [ "$hist" = "{}" ]; then
                p50="n/a (no pinterest.request_ms.* metrics)" p99=$p50
            else
                p50=$(latency 0.50 "$hist" "$nreq") p99=$(latency 0.99 "$hist" "$nreq")
            fi
        else
            p50="n/a (synchost --json printed no metrics)" p99=$p50
            hist=
        fi
        printf '  run %d: %s rows in %s s = %s rows/s; synchost user %s s sys %s s, peak RSS %.1f MiB; sandbox CPU %s s, peak RSS %.1f MiB; requests %s; latency p50 %s ms, p99 %s ms\n' \
            "$run" "$(fmt_int "$rows")" "$secs" "$(fmt_int "$rate")" "$user" "$sys" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
            "$(awk -v a="$sb0" -v b="$sb1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')" \
            "$(awk -v k="$sb_rss" 'BEGIN { print k / 1024 }')" "${requests:-?}" "$p50" "$p99"
        [ -n "$hist" ] && echo "         latency histogram (ms bucket: requests): $hist"
        echo "         sandbox stats: $stats"
        r_rate+=("$rate") r_cpu_host+=("$cpu_host") r_cpu_sb+=("$cpu_sb") r_rss+=("$rss") r_rss_sb+=("$sb_rss")
        r_p50+=("$p50") r_p99+=("$p99")
    done
    m_rss=$(median "${r_rss[@]}")
    rss_by_rows[$rows]=$m_rss
    rate_by_rows[$rows]=$(median "${r_rate[@]}")
    m_cpu_host=$(median "${r_cpu_host[@]}")
    summary+=("$(printf '| %s | %s | %.2f | %s | %.2f | %s | %.1f | %.1f | %s | %s |' "$(fmt_int "$rows")" \
        "$(fmt_int "$(median "${r_rate[@]}")")" "$m_cpu_host" "$(fmt_int "$(awk -v c="$m_cpu_host" 'BEGIN { print 1e6 / c }')")" \
        "$(median "${r_cpu_sb[@]}")" \
        "$(awk -v a="$(median "${r_cpu_host[@]}")" -v b="$(median "${r_cpu_sb[@]}")" 'BEGIN { printf "%.2f", a + b }')" \
        "$(awk -v k="$m_rss" 'BEGIN { print k / 1024 }')" "$(awk -v k="$(median "${r_rss_sb[@]}")" 'BEGIN { print k / 1024 }')" \
        "${r_p50[0]}" "${r_p99[0]}")")
done

echo
echo "| rows | rows/s | synchost CPU-s / 1M events | ceiling rows/s | sandbox CPU-s / 1M events | total CPU-s / 1M | synchost peak RSS MiB | sandbox peak RSS MiB | p50 ms | p99 ms |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
printf '%s\n' "${summary[@]}"
echo "(ceiling: 1,000,000 / synchost CPU-s per 1M events, the rate if synchost had CPU 0 to itself; the"
echo " wall-clock rows/s is lower when other work shares the core or synchost waits on the network)"
[ "$runs" -gt 1 ] && echo "(medians of $runs runs; latency of the first run)"

echo
largest=$(printf '%s\n' "$@" | sort -n | sed -n '$p')
rate=${rate_by_rows[$largest]}
if awk -v r="$rate" 'BEGIN { exit !(r >= 400000) }'; then
    echo "target >= 400,000 rows/s over TLS ($(fmt_int "$largest") rows): MET ($(fmt_int "$rate") rows/s)"
else
    echo "target >= 400,000 rows/s over TLS ($(fmt_int "$largest") rows): MISSED ($(fmt_int "$rate") rows/s)"
fi
if [ -n "${rss_by_rows[1000000]:-}" ]; then
    r1m=${rss_by_rows[1000000]}
    awk -v k="$r1m" 'BEGIN { exit !(k <= 65536) }' && v=MET || v=MISSED
    echo "target peak RSS <= 64 MiB at 1,000,000 rows: $v ($(awk -v k="$r1m" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
    if [ -n "${rss_by_rows[100000]:-}" ]; then
        r100k=${rss_by_rows[100000]}
        awk -v a="$r1m" -v b="$r100k" 'BEGIN { exit !(a <= 1.10 * b) }' && v=MET || v=MISSED
        echo "target peak RSS at 1,000,000 rows within 10% of 100,000 rows: $v ($(awk -v a="$r1m" -v b="$r100k" 'BEGIN { printf "%+.1f%%", 100 * (a - b) / b }'))"
    fi
fi

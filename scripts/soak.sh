#!/usr/bin/env bash
# Soak: repeated large syncs against a sandbox that injects random 429s, 5xx and connection
# resets, for a bounded time, checking that nothing is lost or duplicated and that synchost's
# memory and file descriptors stay flat from run to run.
#
#   scripts/soak.sh [SECONDS]        default 120: no new run starts after SECONDS
#
# Setup: one SQLite database, one pinterest-sandbox with
#   --fault status:429,p=0.05 --fault status:503,p=0.03 --fault reset,p=0.02 --seed 7
# (override with SOAK_FAULTS / SOAK_SEED), one sync definition with max_in_flight 8.
# Loop until SECONDS have passed: append $ROWS_PER_RUN new orders, run `synchost sync` under
# /usr/bin/time -v (peak RSS), sampling /proc/PID/fd every 50 ms (peak open descriptors).
# A run may exit 4 (transient: the retry budget ran out under the faults; rows are kept for the
# next run); then drain: runs without new rows until one exits 0 (at most 10).
# Asserts:
#   - nothing lost: sandbox distinct_event_ids == rows in the database, state delivered == rows,
#     pending == 0;
#   - nothing duplicated beyond same-id resends: every event id is one a dry run derives for the
#     database (no strays), and events_processed == distinct_event_ids + duplicate_events;
#   - memory flat: the peak RSS of every run after the first 3 is at most
#     max(peak of the first 3) * 1.25 + 8 MiB (runs read a growing table, so allow some growth);
#   - no descriptor growth: the peak fd count of every run is at most that of the first run + 4.
# Prints one line per run and a summary; exits 1 on a failed assertion.
#
# Environment:
#   BUILD_DIR      build with synchost, the plugin and pinterest-sandbox (default build); those three
#                  targets are built first unless NO_BUILD=1
#   ROWS_PER_RUN   new rows before each run (default 20000; the first run gets 2x)
#   BATCH_SIZE     rows per write_batch (default 10000: ten 1,000-event requests, so 8 are in flight)
#   LATENCY_MS     sandbox latency per events request (default 5)
#   SOAK_FAULTS    sandbox --fault flags (default above); SOAK_SEED (default 7)
#   KEEP=1         keep the temporary directory
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-120}
case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/soak.sh [SECONDS]" >&2; exit 2 ;; esac
build=${BUILD_DIR:-build}
per_run=${ROWS_PER_RUN:-20000}
batch=${BATCH_SIZE:-10000}
latency=${LATENCY_MS:-5}
faults=${SOAK_FAULTS:---fault status:429,p=0.05 --fault status:503,p=0.03 --fault reset,p=0.02}
fault_seed=${SOAK_SEED:-7}

if [ -z "${NO_BUILD:-}" ]; then
  cmake --build "$build" -j "${JOBS:-2}" --target synchost pinterest_conversions pinterest-sandbox >/dev/null
fi
for f in host/synchost tests/sandbox/pinterest-sandbox plugins/libpinterest_conversions.so plugins/pinterest_conversions.json; do
  [ -e "$build/$f" ] || { echo "soak: missing $build/$f (build first)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "soak: needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
mkdir -p "$tmp/bin/plugins"
cp "$build/host/synchost" "$build/tests/sandbox/pinterest-sandbox" "$tmp/bin/"
cp "$build/plugins/libpinterest_conversions.so" "$build/plugins/pinterest_conversions.json" "$tmp/bin/plugins/"
synchost=$tmp/bin/synchost
plugins=$tmp/bin/plugins
sandbox_pid=""
run_pid=""
cleanup() {
  for p in $run_pid $sandbox_pid; do
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "${KEEP:-}" ]; then echo "soak: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

token="soak-token-$$"
# shellcheck disable=SC2086
"$tmp/bin/pinterest-sandbox" --static-token "$token" --ca-out "$tmp/ca.pem" --latency-ms "$latency" \
  $faults --seed "$fault_seed" >"$tmp/sandbox.out" 2>"$tmp/sandbox.err" &
sandbox_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(head -n 1 "$tmp/sandbox.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "soak: sandbox did not start: $(cat "$tmp/sandbox.err")" >&2; exit 1; }
control() { curl -sS --fail --cacert "$tmp/ca.pem" "$url$1"; }
json_int() { grep -o "\"$1\":-\?[0-9]*" | head -n 1 | cut -d: -f2; }

sqlite3 "$tmp/shop.db" "CREATE TABLE orders(order_id TEXT PRIMARY KEY, event_type TEXT, created_at INTEGER,
  email TEXT, phone TEXT, total REAL, skus TEXT);"
rows=0
add_rows() {  # N: append N orders
  local from=$((rows + 1)) to=$((rows + $1))
  sqlite3 "$tmp/shop.db" "WITH RECURSIVE c(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM c WHERE i < $to)
    INSERT INTO orders SELECT 'o' || i, 'checkout', CAST(strftime('%s', 'now') AS INTEGER) - 600,
    'Buyer' || i || '@Shop.example', '+1 (415) ' || printf('%07d', i), (i % 1000) / 10.0,
    '[\"sku-' || (i % 97) || '\", \"sku-' || (i % 89) || '\"]' FROM c;"
  rows=$to
}

cat >"$tmp/soak.json" <<EOF
{
  "name": "soak",
  "source": {"type": "sqlite", "database": "shop.db", "query": "SELECT * FROM orders"},
  "primary_key": "order_id",
  "mode": "insert",
  "batch_size": $batch,
  "destination": {"plugin": "pinterest_conversions", "config": {
    "ad_account_id": "549755885175", "api_base_url": "$url", "ca_file": "$tmp/ca.pem",
    "calls_per_minute": 1000000, "max_in_flight": 8, "retry_initial_backoff_ms": 50,
    "retry_max_backoff_ms": 1000, "retry_max_elapsed_seconds": 30}},
  "credentials": {"token_env": "SOAK_TOKEN"},
  "mapping": {"event_name": "event_type", "event_time": "created_at", "email": "email", "phone": "phone",
              "value": "total", "order_id": "order_id", "content_ids": "skus"}
}
EOF

rss=()
fds=()
run=0
run_sync() {  # one synchost run; sets rc, rss_kb, fd_peak, secs
  local t0 timefile=$tmp/time.$run pid
  t0=$(date +%s%N)
  (cd "$tmp" && exec env SOAK_TOKEN="$token" /usr/bin/time -v -o "$timefile" "$synchost" sync soak.json \
    --plugin-path "$plugins" --state-dir "$tmp/state" --json --log-file "$tmp/synchost.log" \
    >>"$tmp/synchost.out" 2>>"$tmp/synchost.err") &
  run_pid=$!
  fd_peak=0
  pid=""
  while kill -0 "$run_pid" 2>/dev/null; do
    [ -n "$pid" ] || pid=$(pgrep -P "$run_pid" -x synchost 2>/dev/null | head -n 1 || true)
    if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then
      local n
      n=$({ find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l)  # it may just have exited
      [ "$n" -gt "$fd_peak" ] && fd_peak=$n
    fi
    sleep 0.05
  done
  set +e
  wait "$run_pid"
  rc=$?
  set -e
  run_pid=""
  rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$timefile")
  secs=$(( ($(date +%s%N) - t0) / 1000000 ))
}

start=$(date +%s)
failures=()
printf '%4s %8s %5s %9s %7s %8s  %s\n' run rows exit peak_rss fd_peak ms note
while [ $(($(date +%s) - start)) -lt "$seconds" ]; do
  run=$((run + 1))
  add_rows $((run == 1 ? 2 * per_run : per_run))
  run_sync
  rss+=("$rss_kb")
  fds+=("$fd_peak")
  printf '%4s %8s %5s %8sK %7s %8s  %s\n' "$run" "$rows" "$rc" "$rss_kb" "$fd_peak" "$secs" \
    "$(tail -n 1 "$tmp/synchost.out" | grep -o '"delivered":[0-9]*,"rejected":[0-9]*,"retry":[0-9]*' || true)"
  case "$rc" in 0 | 4) ;; *) failures+=("run $run exited $rc: $(tail -n 1 "$tmp/synchost.err")") ;; esac
done
# Drain: rows a run left for later (exit 4) go out now.
drains=0
while [ "$rc" -ne 0 ] && [ "$drains" -lt 10 ]; do
  drains=$((drains + 1))
  run=$((run + 1))
  run_sync
  printf '%4s %8s %5s %8sK %7s %8s  %s\n' "$run" "$rows" "$rc" "$rss_kb" "$fd_peak" "$secs" "drain"
done
[ "$rc" -eq 0 ] || failures+=("no clean run after $drains drain runs")

# Expected event ids: a dry run over the final table, in its own state directory.
(cd "$tmp" && SOAK_TOKEN=$token "$synchost" sync soak.json --plugin-path "$plugins" --state-dir "$tmp/dry-state" \
  --dry-run --quiet 2>/dev/null) | grep -o '"event_id":"[^"]*"' | cut -d'"' -f4 | sort -u >"$tmp/expected_ids"
control /_sandbox/event_ids | cut -d' ' -f1 | sort -u >"$tmp/sent_ids"
stats=$(control /_sandbox/stats)
distinct=$(json_int distinct_event_ids <<<"$stats")
processed=$(json_int events_processed <<<"$stats")
duplicates=$(json_int duplicate_events <<<"$stats")
faults_injected=$(json_int faults_injected <<<"$stats")
requests=$(grep -o '"events":[0-9]*' <<<"$stats" | head -n 1 | cut -d: -f2)
strays=$(comm -13 "$tmp/expected_ids" "$tmp/sent_ids" | wc -l)
expected=$(wc -l <"$tmp/expected_ids")
status_json=$(cd "$tmp" && SOAK_TOKEN=$token "$synchost" status soak.json --plugin-path "$plugins" \
  --state-dir "$tmp/state" --json 2>/dev/null || true)
delivered=$(json_int delivered <<<"$status_json")
pending=$(json_int pending <<<"$status_json")

[ "$expected" -eq "$rows" ] || failures+=("dry run derived $expected ids for $rows rows")
[ "${distinct:-0}" -eq "$rows" ] || failures+=("lost: distinct_event_ids $distinct != $rows rows")
[ "$strays" -eq 0 ] || failures+=("$strays event ids outside the expected set")
[ "$((distinct + duplicates))" -eq "${processed:-0}" ] || failures+=("processed $processed != distinct + duplicates")
[ "${delivered:-0}" -eq "$rows" ] || failures+=("state delivered ${delivered:-?} != $rows")
[ "${pending:-1}" -eq 0 ] || failures+=("state pending ${pending:-?} != 0")

# Memory and descriptors, over the runs of the timed loop (not the drain).
n=${#rss[@]}
base_rss=0
for i in 0 1 2; do [ "$i" -lt "$n" ] && [ "${rss[$i]}" -gt "$base_rss" ] && base_rss=${rss[$i]}; done
rss_limit=$((base_rss * 5 / 4 + 8192))
max_rss=0
for i in $(seq 0 $((n - 1))); do
  [ "${rss[$i]}" -gt "$max_rss" ] && max_rss=${rss[$i]}
  if [ "$i" -ge 3 ] && [ "${rss[$i]}" -gt "$rss_limit" ]; then
    failures+=("memory: run $((i + 1)) peak RSS ${rss[$i]}K > ${rss_limit}K")
  fi
done
fd_limit=$((fds[0] + 4))
max_fd=0
for i in $(seq 0 $((n - 1))); do
  [ "${fds[$i]}" -gt "$max_fd" ] && max_fd=${fds[$i]}
  [ "${fds[$i]}" -le "$fd_limit" ] || failures+=("descriptors: run $((i + 1)) peaked at ${fds[$i]} fds > $fd_limit")
done
[ "$n" -ge 4 ] || echo "soak: only $n runs: the memory check needs more than 3 (raise SECONDS)"

echo "soak: ${seconds}s, $run runs ($drains drain), $rows rows, $requests events requests, $faults_injected faults injected" \
  "($faults, seed $fault_seed)"
echo "soak: distinct $distinct, same-id resends $duplicates, strays $strays, state delivered ${delivered:-?} pending ${pending:-?}"
echo "soak: peak RSS first-3 max ${base_rss}K, overall max ${max_rss}K (limit ${rss_limit}K); fd peak first ${fds[0]}, max $max_fd"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'soak: FAIL: %s\n' "${failures[@]}"
  exit 1
fi
echo "soak: ok"

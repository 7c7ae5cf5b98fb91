#!/usr/bin/env bash
# Crash campaign: synchost killed with SIGKILL at random moments must still deliver every row
# exactly once (net), with its state database agreeing with the destination.
#
#   scripts/crash-campaign.sh [TRIALS] [ROWS]      defaults: 20 trials, 100000 rows
#
# Per trial, in a fresh temporary directory:
#   1. a SQLite database of ROWS valid orders (sqlite3 CLI) and a fresh pinterest-sandbox with
#      --latency-ms $LATENCY_MS, so that a run takes a few seconds;
#   2. the expected event ids, from a dry run (synchost sync --dry-run, separate state dir);
#   3. repeat: start `synchost sync`, and SIGKILL it after a random delay in
#      [$KILL_MIN_MS, $KILL_MAX_MS) ms (bash RANDOM seeded with $SEED, so a campaign is
#      reproducible up to scheduling), restart, ... until a run exits 0 by itself (a run that
#      finishes before its kill ends the loop; after $MAX_KILLS kills a run is left alone);
#   4. asserts, at the sandbox (GET /_sandbox/stats, /_sandbox/event_ids):
#        distinct_event_ids == ROWS              (every row delivered)
#        every event id is in the expected set   (no stray or re-derived id)
#        events_processed == distinct + duplicate_events, events_failed == 0
#                                               (every duplicate is a resend of the same id:
#                                                0 net duplicates)
#      and in the state database (synchost status --json): delivered == ROWS, pending == 0.
# Prints per-trial kills, runs, same-id resends and seconds, then totals; exits 1 if any trial
# failed an assertion, 2 on a usage error.
#
# Environment:
#   BUILD_DIR      build with synchost, the plugin and pinterest-sandbox (default build); the
#                  script builds those three targets first (set NO_BUILD=1 to skip)
#   SEED           campaign seed (default 20261128)
#   LATENCY_MS     sandbox latency per events request (default 60: a clean run takes ~6 s)
#   BATCH_SIZE     rows per write_batch, i.e. per checkpoint (default 500)
#   MAX_IN_FLIGHT  plugin max_in_flight (default 2)
#   KILL_MIN_MS, KILL_MAX_MS   kill window after each start (default 100, 5000)
#   MAX_KILLS      kills per trial at most (default 6)
#   KEEP=1         keep the temporary directory (printed) for inspection
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

trials=${1:-20}
rows=${2:-100000}
case "$trials$rows" in '' | *[!0-9]*) echo "usage: scripts/crash-campaign.sh [TRIALS] [ROWS]" >&2; exit 2 ;; esac
build=${BUILD_DIR:-build}
seed=${SEED:-20261128}
latency=${LATENCY_MS:-60}
batch=${BATCH_SIZE:-500}
inflight=${MAX_IN_FLIGHT:-2}
kill_min=${KILL_MIN_MS:-100}
kill_max=${KILL_MAX_MS:-5000}
max_kills=${MAX_KILLS:-6}

if [ -z "${NO_BUILD:-}" ]; then
  cmake --build "$build" -j "${JOBS:-2}" --target synchost pinterest_conversions pinterest-sandbox >/dev/null
fi
for f in host/synchost tests/sandbox/pinterest-sandbox plugins/libpinterest_conversions.so plugins/pinterest_conversions.json; do
  [ -e "$build/$f" ] || { echo "crash-campaign: missing $build/$f (build first)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crash-campaign.XXXXXX")
# Private copies, so that a rebuild of $build during the campaign cannot swap binaries under it.
mkdir -p "$tmp/bin/plugins"
cp "$build/host/synchost" "$build/tests/sandbox/pinterest-sandbox" "$tmp/bin/"
cp "$build/plugins/libpinterest_conversions.so" "$build/plugins/pinterest_conversions.json" "$tmp/bin/plugins/"
synchost=$tmp/bin/synchost
sandbox_exe=$tmp/bin/pinterest-sandbox
plugins=$tmp/bin/plugins
sandbox_pid=""
sync_pid=""
cleanup() {
  for p in $sync_pid $sandbox_pid; do
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "${KEEP:-}" ]; then echo "crash-campaign: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

token="crash-campaign-token-$seed"

start_sandbox() {  # DIR: starts the sandbox, sets sandbox_pid and url
  local d=$1
  "$sandbox_exe" --static-token "$token" --ca-out "$d/ca.pem" --latency-ms "$latency" \
    >"$d/sandbox.out" 2>"$d/sandbox.err" &
  sandbox_pid=$!
  url=""
  for _ in $(seq 1 100); do
    url=$(head -n 1 "$d/sandbox.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { echo "crash-campaign: sandbox did not start: $(cat "$d/sandbox.err")" >&2; exit 1; }
}

stop_sandbox() {
  kill "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  sandbox_pid=""
}

control() {  # PATH: GET a control endpoint of the sandbox
  curl -sS --fail --cacert "$trial_dir/ca.pem" "$url$1"
}

json_int() {  # KEY < JSON: the first integer value of "KEY" (flat keys only)
  grep -o "\"$1\":-\?[0-9]*" | head -n 1 | cut -d: -f2
}

make_orders() {  # DB N: N valid orders, event times 10 minutes ago
  sqlite3 "$1" <<SQL
CREATE TABLE orders(order_id TEXT PRIMARY KEY, event_type TEXT, created_at INTEGER, email TEXT, phone TEXT, total REAL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $2)
INSERT INTO orders SELECT 'o' || i, 'checkout', CAST(strftime('%s', 'now') AS INTEGER) - 600,
  'buyer' || i || '@shop.example', '+1415' || printf('%07d', i), (i % 100) + 0.5 FROM c;
SQL
}

write_definition() {  # DIR
  cat >"$1/orders.json" <<EOF
{
  "name": "orders",
  "source": {"type": "sqlite", "database": "shop.db", "query": "SELECT * FROM orders"},
  "primary_key": "order_id",
  "mode": "insert",
  "batch_size": $batch,
  "destination": {"plugin": "pinterest_conversions", "config": {
    "ad_account_id": "549755885175", "api_base_url": "$url", "ca_file": "$1/ca.pem",
    "calls_per_minute": 1000000, "retry_initial_backoff_ms": 20, "max_in_flight": $inflight}},
  "credentials": {"token_env": "CRASH_TOKEN"},
  "mapping": {"event_name": "event_type", "event_time": "created_at", "email": "email", "phone": "phone",
              "value": "total", "order_id": "order_id"}
}
EOF
}

RANDOM=$seed
failures=0
total_kills=0
total_runs=0
total_resends=0
campaign_start=$(date +%s)
printf '%-6s %7s %6s %5s %9s %9s %8s %8s %6s  %s\n' trial rows kills runs distinct resends delivered pending secs result
for trial in $(seq 1 "$trials"); do
  trial_dir=$tmp/trial-$trial
  mkdir -p "$trial_dir"
  t0=$(date +%s)
  make_orders "$trial_dir/shop.db" "$rows"
  start_sandbox "$trial_dir"
  write_definition "$trial_dir"
  # Expected event ids: a dry run computes them without sending (its own state directory).
  (cd "$trial_dir" && CRASH_TOKEN=$token "$synchost" sync orders.json --plugin-path "$plugins" \
    --state-dir "$trial_dir/dry-state" --dry-run --quiet 2>/dev/null) |
    grep -o '"event_id":"[^"]*"' | cut -d'"' -f4 | sort -u >"$trial_dir/expected_ids"
  expected=$(wc -l <"$trial_dir/expected_ids")

  kills=0
  runs=0
  result=ok
  while :; do
    runs=$((runs + 1))
    if [ "$runs" -gt $((max_kills + 5)) ]; then result="no clean run after $runs starts"; break; fi
    (cd "$trial_dir" && exec env CRASH_TOKEN="$token" "$synchost" sync orders.json --plugin-path "$plugins" \
      --state-dir "$trial_dir/state" --quiet --log-file "$trial_dir/synchost.log" \
      >>"$trial_dir/synchost.out" 2>>"$trial_dir/synchost.err") &
    sync_pid=$!
    rc=""
    if [ "$kills" -lt "$max_kills" ]; then
      delay_ms=$((kill_min + (RANDOM * 32768 + RANDOM) % (kill_max - kill_min)))
      deadline=$(($(date +%s%N) / 1000000 + delay_ms))
      while [ "$(($(date +%s%N) / 1000000))" -lt "$deadline" ]; do
        if ! kill -0 "$sync_pid" 2>/dev/null; then break; fi
        sleep 0.02
      done
      kill -9 "$sync_pid" 2>/dev/null || true  # a run that already ended is just reaped below
    fi
    set +e
    wait "$sync_pid" 2>/dev/null  # (no "Killed" job notice)
    rc=$?
    set -e
    sync_pid=""
    if [ "$rc" -eq 0 ]; then break; fi
    if [ "$rc" -eq 137 ]; then kills=$((kills + 1)); continue; fi  # SIGKILLed
    result="synchost exited $rc: $(tail -n 1 "$trial_dir/synchost.err")"
    break
  done

  stats=$(control /_sandbox/stats)
  distinct=$(json_int distinct_event_ids <<<"$stats")
  processed=$(json_int events_processed <<<"$stats")
  duplicates=$(json_int duplicate_events <<<"$stats")
  failed_events=$(json_int events_failed <<<"$stats")
  control /_sandbox/event_ids | cut -d' ' -f1 | sort -u >"$trial_dir/sent_ids"
  strays=$(comm -13 "$trial_dir/expected_ids" "$trial_dir/sent_ids" | wc -l)
  status_json=$(cd "$trial_dir" && CRASH_TOKEN=$token "$synchost" status orders.json --plugin-path "$plugins" \
    --state-dir "$trial_dir/state" --json 2>/dev/null || true)
  delivered=$(json_int delivered <<<"$status_json")
  pending=$(json_int pending <<<"$status_json")
  if [ "$result" = ok ]; then
    problems=()
    [ "$expected" -eq "$rows" ] || problems+=("dry run listed $expected ids for $rows rows")
    [ "${distinct:-0}" -eq "$rows" ] || problems+=("distinct_event_ids $distinct != $rows")
    [ "$strays" -eq 0 ] || problems+=("$strays event ids outside the expected set")
    [ "$((distinct + duplicates))" -eq "${processed:-0}" ] || problems+=("processed $processed != distinct $distinct + duplicates $duplicates")
    [ "${failed_events:-0}" -eq 0 ] || problems+=("$failed_events events failed")
    [ "${delivered:-0}" -eq "$rows" ] || problems+=("state delivered ${delivered:-?} != $rows")
    [ "${pending:-1}" -eq 0 ] || problems+=("state pending ${pending:-?} != 0")
    if [ ${#problems[@]} -gt 0 ]; then result="FAIL: $(IFS=';'; echo "${problems[*]}")"; fi
  fi
  stop_sandbox
  [ "$result" = ok ] || failures=$((failures + 1))
  total_kills=$((total_kills + kills))
  total_runs=$((total_runs + runs))
  total_resends=$((total_resends + ${duplicates:-0}))
  printf '%-6s %7s %6s %5s %9s %9s %8s %8s %6s  %s\n' "$trial" "$rows" "$kills" "$runs" "${distinct:-?}" \
    "${duplicates:-?}" "${delivered:-?}" "${pending:-?}" "$(($(date +%s) - t0))" "$result"
  if [ "$result" != ok ]; then
    cp -r "$trial_dir" "$tmp/../crash-campaign-failed-trial-$trial-$$" 2>/dev/null &&
      echo "crash-campaign: trial $trial kept in ${TMPDIR:-/tmp}/crash-campaign-failed-trial-$trial-$$"
  else
    rm -rf "$trial_dir"
  fi
done
secs=$(($(date +%s) - campaign_start))
echo "crash-campaign: seed $seed, $trials trials x $rows rows: $total_kills SIGKILLs, $total_runs runs," \
  "$total_resends same-id resends, 0 allowed net duplicates; $failures failed trials; ${secs}s"
[ "$failures" -eq 0 ]

#!/usr/bin/env bash
# Many tenants in one process, as an engine holds them: build/bin/tenants_bench opens N instances
# of the Pinterest plugin (one ad account and one sp_host each) against one pinterest-sandbox
# --fast, then K of them deliver ROWS rows each at the same time while the rest stay idle, then K
# others (when N >= 2K). Prints the time to open an instance, RSS per idle and per active instance,
# threads and file descriptors (idle, at the busy peak, after the first round), the connections
# the sandbox accepted (the second round reuses the first one's: connections are shared by every
# instance on an I/O thread), and checks at the sandbox that every account received exactly its
# own rows (events_by_account).
#
# usage: scripts/bench-tenants.sh [N] [K] [ROWS]     (default 500 50 2000)
# Targets (issue "many tenants"): <= 256 KiB per idle instance, threads bounded by the core count,
# an open well under 1 ms after the first. Exit status 1 when an event reached a wrong account or
# was not delivered; the targets are reported, not enforced.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

n=${1:-500}
k=${2:-50}
rows=${3:-2000}
TENANTS=$BUILD_DIR/bin/tenants_bench
bench_need "$TENANTS" "$PLUGIN" "$SANDBOX"
bench_need_cmd curl python3
token=bench-tenants-token
accounts=()
for i in $(seq "$n"); do accounts+=(--ad-account $((1000000 + i))); done
start_sandbox 1 --fast --static-token "$token" "${accounts[@]}"
echo "tenants_bench: $n instances, $k delivering $rows rows each; $(nproc) cores (load average: $(loadavg))"
"$TENANTS" "$PLUGIN" "$SANDBOX_URL" "$SANDBOX_CA" "$token" "$n" "$k" "$rows" | tee "$BENCH_TMP/figures"
sandbox_get /_sandbox/stats >"$BENCH_TMP/stats.json"
rounds=$(awk '$1 == "rounds" {print $2}' "$BENCH_TMP/figures")
python3 - "$BENCH_TMP/stats.json" "$n" "$((k * rounds))" "$rows" <<'PY'
import json, sys
stats, n, k, rows = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"sandbox_connections_accepted {stats['connections_accepted'] - 1}")  # less the one asking for stats
got = stats.get("events_by_account", {})
want = {str(1000001 + i): rows for i in range(k)}
wrong = {a: c for a, c in got.items() if want.get(a, 0) != c}
missing = {a: c for a, c in want.items() if a not in got}
print(f"accounts with events: {len(got)} (expected {k}); events at a wrong account or missing: "
      f"{sum(wrong.values()) + sum(missing.values())}")
sys.exit(1 if wrong or missing else 0)
PY

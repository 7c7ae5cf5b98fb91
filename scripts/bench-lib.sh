# shellcheck shell=bash disable=SC2034
# Shared helpers for scripts/bench-*.sh (sourced, not run). Sets the paths of the built binaries,
# a private temp dir ($BENCH_TMP, removed on exit unless BENCH_KEEP=1), and an EXIT trap that stops
# every child registered with bench_track. Loopback only.
#   BUILD_DIR   build tree (default: build)
#   BENCH_KEEP  1: keep $BENCH_TMP for inspection

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$BENCH_ROOT/$BUILD_DIR ;; esac
PLUGIN=$BUILD_DIR/plugins/libpinterest_conversions.so
ABI_THROUGHPUT=$BUILD_DIR/bin/abi_throughput
PIPELINE_BENCH=$BUILD_DIR/bin/pipeline_bench
PARTS_FLOOR=$BUILD_DIR/bin/parts_floor
SYNCHOST=$BUILD_DIR/host/synchost
SANDBOX=$BUILD_DIR/tests/sandbox/pinterest-sandbox
CLK_TCK=$(getconf CLK_TCK)

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/syncplugin-bench.XXXXXX")
BENCH_PIDS=()

# group_alive PGID: whether a process of the group is still running (zombies do not count).
group_alive() {
    local p st
    for p in $(pgrep -g "$1" 2>/dev/null); do
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        st=${st##*) }
        [ "${st%% *}" = Z ] || return 0
    done
    return 1
}

# stop_group PID: stops the process group PID leads (bench_spawn), gracefully first: SIGTERM (synchost
# finishes its batch in flight and checkpoints), a second SIGTERM after 3 s (abandons the batch),
# SIGKILL after 3 s more.
stop_group() {
    local sig i
    for sig in TERM TERM KILL; do
        group_alive "$1" || break
        kill "-$sig" -- "-$1" 2>/dev/null || true
        for i in $(seq 30); do
            group_alive "$1" || break 2
            sleep 0.1
        done
    done
    wait "$1" 2>/dev/null || true
}

bench_cleanup() {
    local i
    # Newest first: synchost before the sandbox it talks to.
    for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
        stop_group "${BENCH_PIDS[i]}"
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "kept $BENCH_TMP" >&2
    else
        rm -rf "$BENCH_TMP"
    fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_track() { BENCH_PIDS+=("$1"); }
bench_untrack() {
    local pid keep=()
    for pid in "${BENCH_PIDS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
    BENCH_PIDS=("${keep[@]}")
}

# bench_spawn CMD...: starts CMD in the background in its own process group (so that stopping it
# also stops what it forks, e.g. /usr/bin/time's or perf's child); sets BENCH_LAST_PID.
bench_spawn() {
    setsid "$@" &
    BENCH_LAST_PID=$!
    bench_track "$BENCH_LAST_PID"
}

# bench_run CMD...: runs CMD to completion like a foreground command, but interruptibly: a signal to
# this script stops CMD's whole process group (bash would otherwise wait for a foreground child
# before running its traps). Returns CMD's exit status.
bench_run() {
    local rc=0 pid
    bench_spawn "$@"
    pid=$BENCH_LAST_PID
    wait "$pid" || rc=$?
    bench_untrack "$pid"
    return "$rc"
}

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# bench_need FILE...: every file must exist (the scripts never build: other work may share the tree).
bench_need() {
    local f
    for f in "$@"; do
        [ -e "$f" ] || die "missing $f; build it: cmake --build $BUILD_DIR -j2 --target pipeline_bench abi_throughput parts_floor synchost pinterest-sandbox pinterest_conversions"
    done
}

# bench_snapshot VAR...: copies the binaries named by these variables (PLUGIN, SYNCHOST, ...) into
# $BENCH_TMP and points the variables at the copies, so that a rebuild in the shared build tree
# during a run cannot change or break what is measured. The plugin keeps its manifest beside it.
bench_snapshot() {
    local var src dst
    mkdir -p "$BENCH_TMP/bin" "$BENCH_TMP/plugins"
    for var in "$@"; do
        src=${!var}
        case $src in "$BENCH_TMP"/*) continue ;; esac  # already a copy
        if [ "$var" = PLUGIN ]; then
            dst=$BENCH_TMP/plugins/$(basename "$src")
            cp "$(dirname "$src")/pinterest_conversions.json" "$BENCH_TMP/plugins/"
        else
            dst=$BENCH_TMP/bin/$(basename "$src")
        fi
        cp -p "$src" "$dst"
        printf -v "$var" '%s' "$dst"
        echo "# $var: $src, built $(date -r "$src" '+%Y-%m-%d %H:%M:%S')"
    done
    echo "# source tree: $(git -C "$BENCH_ROOT" rev-parse --short HEAD)$(git -C "$BENCH_ROOT" diff --quiet HEAD -- plugins plugin_api host support manifests tests/sandbox cmake CMakeLists.txt 2>/dev/null || echo ' + uncommitted changes')"
}

bench_need_cmd() {
    local c
    for c in "$@"; do command -v "$c" >/dev/null || die "needs '$c' on PATH"; done
}

# median X...: the median of the numbers (mean of the middle two for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The machine's load average (1, 5, 15 min): printed with every figure, since others share the cores.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Number formatting: fmt_int 1234567 -> 1,234,567
fmt_int() { printf '%.0f\n' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

# cpu_ticks PID: user + system CPU time of a live process, in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name, which may hold spaces).
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat") || return 1
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}

# vm_hwm_kb PID: peak resident set size of a live process, in KiB.
vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# start_sandbox CPU ARGS...: starts pinterest-sandbox pinned to CPU with its CA in
# $BENCH_TMP/sandbox-ca.pem; sets SANDBOX_PID and SANDBOX_URL.
start_sandbox() {
    local cpu=$1
    shift
    local out=$BENCH_TMP/sandbox.$RANDOM.out
    SANDBOX_CA=$BENCH_TMP/sandbox-ca.pem
    rm -f "$SANDBOX_CA"
    bench_spawn taskset -c "$cpu" "$SANDBOX" --ca-out "$SANDBOX_CA" "$@" >"$out" 2>&1
    SANDBOX_PID=$BENCH_LAST_PID
    local _
    for _ in $(seq 100); do
        [ -s "$out" ] && break
        kill -0 "$SANDBOX_PID" 2>/dev/null || break
        sleep 0.1
    done
    SANDBOX_URL=$(head -1 "$out")
    case $SANDBOX_URL in https://127.0.0.1:*) ;; *) die "pinterest-sandbox did not start: $(cat "$out")" ;; esac
}

stop_sandbox() {
    stop_group "$SANDBOX_PID"
    bench_untrack "$SANDBOX_PID"
}

sandbox_get() { curl -sS --fail --cacert "$SANDBOX_CA" "$SANDBOX_URL$1"; }

# make_db ROWS FILE: a SQLite database of ROWS valid orders (every row is accepted).
make_db() {
    [ -s "$2" ] && return 0
    sqlite3 "$2" -cmd ".parameter set @n $1" <"$BENCH_ROOT/tests/bench/make_bench_db.sql" >/dev/null
}

# write_def FILE NAME DB EXTRA_CONFIG [EXTRA_DEF [EXTRA_MAPPING]]: a sync definition of DB's orders
# to the running sandbox; EXTRA_CONFIG is a JSON fragment appended to the destination config (e.g.
# ', "calls_per_minute": 1000000'), EXTRA_DEF one appended to the definition (', "batch_size": 16000'),
# EXTRA_MAPPING one appended to the mapping (', "ad_account_id": "account"').
# The token comes from $BENCH_TOKEN_VAR.
BENCH_TOKEN=bench-token-0123456789
BENCH_TOKEN_VAR=BENCH_PINTEREST_TOKEN
write_def() {
    cat >"$1" <<EOF
{
  "name": "$2",
  "source": {"type": "sqlite", "database": "$3", "query": "SELECT * FROM orders"},
  "primary_key": "order_id",
  "mode": "insert",
  "destination": {
    "plugin": "pinterest_conversions",
    "config": {
      "ad_account_id": "549755885175",
      "default_phone_country_code": "1",
      "api_base_url": "$SANDBOX_URL",
      "ca_file": "$SANDBOX_CA"$4
    }
  },
  "credentials": {"token_env": "$BENCH_TOKEN_VAR"},
  "mapping": {
    "event_name": "event_type",
    "event_time": "created_at",
    "email": "email",
    "phone": "phone",
    "value": "total",
    "currency": "currency",
    "order_id": "order_id",
    "content_ids": "skus",
    "client_ip_address": "client_ip",
    "client_user_agent": "user_agent",
    "action_source": {"value": "web"}${6:-}
  }${5:-}
}
EOF
}

# time_field FILE LABEL: a value from /usr/bin/time -v output ("Maximum resident set size (kbytes)").
time_field() { awk -F': ' -v k="$2" '{ sub(/^[ \t]+/, "") } index($0, k) == 1 { print $NF }' "$1"; }

# wall_seconds FILE: "Elapsed (wall clock) time (h:mm:ss or m:ss)" in seconds.
wall_seconds() {
    time_field "$1" "Elapsed (wall clock) time" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'
}

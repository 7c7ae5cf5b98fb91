#!/usr/bin/env bash
# What an incremental run costs once a model is large: a model of ROWS orders, a first run, a run
# with nothing changed, a run after CHANGE new rows, and (mirror mode) a run after CHANGE new,
# CHANGE changed and CHANGE deleted rows. Each configuration:
#   postgres/source  PostgreSQL model, delivered keys beside it ("state": {"location": "source"}):
#                    the database returns only the rows the mode acts on
#   postgres/local   PostgreSQL model, local state: every row crosses into synchost
#   sqlite/local     SQLite model, local state (the default)
# Reports per run the wall time, synchost's CPU, the rows the source returned (rows_read), and
# after the first run the state's size per key (local: the state directory's files; source: the
# table with its index, pg_total_relation_size).
#
# The destination is the jsonl_file plugin writing to /dev/null without fsync: this measures the
# source, the diff and the host, not a destination (scripts/bench-sync.sh measures Pinterest's path).
#
# usage: scripts/bench-incremental.sh
#   ROWS     model size (default 10000000)
#   CHANGE   new, changed and deleted rows per incremental run (default 10000)
#   MODES    sync modes to run (default "insert mirror")
#   CONFIGS  configurations (default "postgres/source postgres/local sqlite/local")
#   PG_SETTINGS  the PostgreSQL source's "settings" (JSON object), e.g. '{"enable_hashjoin": "off"}' 
#   BENCH_KEEP=1 keeps the temp dir
# Targets: an insert-mode run over 10M rows with 0.1% new rows takes < 3 s from PostgreSQL with the
# state beside the model and reads only the new rows; local state <= 24 bytes per key on disk.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

rows=${ROWS:-10000000}
change=${CHANGE:-10000}
modes=${MODES:-insert mirror}
configs=${CONFIGS:-postgres/source postgres/local sqlite/local}
JSONL_PLUGIN=$BUILD_DIR/plugins/libjsonl_file.so
bench_need "$SYNCHOST" "$JSONL_PLUGIN"
bench_snapshot SYNCHOST
cp "$JSONL_PLUGIN" "$BENCH_TMP/plugins/"
bench_need_cmd sqlite3 psql jq /usr/bin/time
PG=$("$BENCH_ROOT/scripts/start-postgres.sh" 2>/dev/null) || die "PostgreSQL did not start (scripts/start-postgres.sh)"
export BENCH_PG=$PG
table=bench_incremental_orders
echo "# $(nproc) cores; model $(fmt_int "$rows") rows; $(fmt_int "$change") rows per change; load average $(loadavg)"

# The model's rows ids FIRST..LAST, in SQL both databases take.
columns="order_id, event_type, created_at, email, total"
pg_rows() { echo "SELECT g, 'checkout', 1765000000 - g % 500000, 'user' || g || '@example.org', (g % 1000) * 1.5 FROM generate_series($1, $2) g"; }
sqlite_rows() { echo "WITH RECURSIVE n(g) AS (SELECT $1 UNION ALL SELECT g + 1 FROM n WHERE g < $2) SELECT g, 'checkout', 1765000000 - g % 500000, 'user' || g || '@example.org', (g % 1000) * 1.5 FROM n"; }

# model SOURCE SQL: runs SQL against the model's database.
model() {
    if [ "$1" = postgres ]; then psql "$PG" -v ON_ERROR_STOP=1 -qAtc "$2"; else sqlite3 "$BENCH_TMP/model.db" "$2"; fi
}

make_model() {
    if [ "$1" = postgres ]; then
        model postgres "DROP TABLE IF EXISTS $table; DROP SCHEMA IF EXISTS bench_state CASCADE;
          CREATE TABLE $table(order_id bigint PRIMARY KEY, event_type text, created_at bigint, email text, total numeric(10,2));
          INSERT INTO $table($columns) $(pg_rows 1 "$rows");"
        model postgres "VACUUM ANALYZE $table"
    else
        rm -f "$BENCH_TMP/model.db"
        model sqlite "PRAGMA journal_mode = OFF; CREATE TABLE $table(order_id INTEGER PRIMARY KEY, event_type TEXT,
          created_at INTEGER, email TEXT, total REAL); INSERT INTO $table($columns) $(sqlite_rows 1 "$rows");" >/dev/null
    fi
}

# The changes of an incremental run: new rows after the last, changed rows from the first, deleted
# rows from the middle.
add_rows() {
    local from=$(($2 + 1)) to=$(($2 + change))
    if [ "$1" = postgres ]; then model postgres "INSERT INTO $table($columns) $(pg_rows $from $to)"
    else model sqlite "INSERT INTO $table($columns) $(sqlite_rows $from $to)"; fi
}
change_and_delete() {
    model "$1" "UPDATE $table SET total = total + 1 WHERE order_id <= $change;
                DELETE FROM $table WHERE order_id > $((rows / 2)) AND order_id <= $((rows / 2 + change));"
}

write_sync() {  # SOURCE STATE MODE FILE
    local source state=""
    if [ "$1" = postgres ]; then
        source="{\"type\": \"postgres\", \"connection_env\": \"BENCH_PG\", \"query\": \"SELECT * FROM $table\"${PG_SETTINGS:+, \"settings\": $PG_SETTINGS}}"
    else
        source="{\"type\": \"sqlite\", \"database\": \"$BENCH_TMP/model.db\", \"query\": \"SELECT * FROM $table\"}"
    fi
    [ "$2" = source ] && state=', "state": {"location": "source", "schema": "bench_state"}'
    cat >"$4" <<EOF
{"name": "incremental", "source": $source, "primary_key": "order_id", "mode": "$3"$state,
 "destination": {"plugin": "jsonl_file", "config": {"path": "/dev/null", "fsync": false}},
 "mapping": {"email": "email", "event_type": "event_type", "total": "total"}, "batch_size": 10000}
EOF
}

# run LABEL: one sync; prints a table row and sets LAST_READ.
run() {
    local out=$BENCH_TMP/run.out tv=$BENCH_TMP/time.txt t0 t1 rc=0
    t0=$(date +%s%N)
    bench_run /usr/bin/time -v -o "$tv" "$SYNCHOST" sync "$def" --json --quiet --state-dir "$state_dir" \
        --plugin-path "$BENCH_TMP/plugins" >"$out" 2>"$out.err" || rc=$?
    t1=$(date +%s%N)
    [ "$rc" = 0 ] || die "synchost sync exited $rc: $(cat "$out.err")"
    LAST_READ=$(jq -r .rows_read "$out")
    printf '| %s | %s | %s | %.2f | %.2f | %s | %s |\n' "$cfg" "$mode" "$1" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" \
        "$(awk -v u="$(time_field "$tv" "User time (seconds)")" -v s="$(time_field "$tv" "System time (seconds)")" 'BEGIN { print u + s }')" \
        "$(fmt_int "$LAST_READ")" "$(jq -r '"\(.delivered) (\(.operations | to_entries | map(select(.value > 0) | "\(.value) \(.key)") | join(", ")))"' "$out")"
}

state_bytes_per_key() {
    if [ "$state" = source ]; then
        model postgres "SELECT round(pg_total_relation_size('bench_state.incremental')::numeric / count(*), 1) FROM bench_state.incremental"
    else
        du -sb "$state_dir/syncs/incremental" | awk -v n="$rows" '{ printf "%.1f\n", $1 / n }'
    fi
}

echo "| configuration | mode | run | wall s | synchost CPU s | rows read from the source | delivered (operations) |"
echo "|---|---|---|---|---|---|---|"
sizes=()
for cfg in $configs; do
    src=${cfg%/*} state=${cfg#*/}
    for mode in $modes; do
        make_model "$src"
        state_dir=$BENCH_TMP/state-${src}-${state}-${mode}
        rm -rf "$state_dir"
        def=$BENCH_TMP/sync.json
        write_sync "$src" "$state" "$mode" "$def"
        run "first"
        sizes+=("$cfg $mode: $(state_bytes_per_key) bytes per key")
        [ "$src" = postgres ] && [ "$state" = source ] && model postgres "VACUUM ANALYZE bench_state.incremental"
        run "nothing changed"
        add_rows "$src" "$rows"
        run "$(fmt_int "$change") new"
        [ "$state" = source ] && [ "$LAST_READ" != "$change" ] && die "read $LAST_READ rows for $change new ones"
        if [ "$mode" = mirror ]; then
            add_rows "$src" $((rows + change))
            change_and_delete "$src"
            run "$(fmt_int "$change") new, changed, deleted"
        fi
    done
done
echo
echo "state size after the first run:"
printf '  %s\n' "${sizes[@]}"

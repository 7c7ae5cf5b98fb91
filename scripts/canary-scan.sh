#!/usr/bin/env bash
# Canary scan: runs the end-to-end flow with planted secret and personal values ("canaries") and
# fails if any of them appears in anything the product wrote.
#
#   scripts/canary-scan.sh          (no arguments)
#
# Canaries:
#   - a static access token (sync definition "credentials": {"token_env": ...}), and a wrong one
#     for a run that fails authentication;
#   - an OAuth client secret given to `synchost connect` (via --client-secret-env), and the
#     access and refresh tokens the sandbox issues to that connection (read back from the
#     credentials file; every sandbox token has the shape pina_/pinr_ + 64 hex, and that pattern
#     is scanned for too, which covers tokens rotated by refreshes in between);
#   - raw emails (mixed case, spaces), phones, first/last names and external ids in the source
#     rows, including rows the plugin rejects (bad email, phone only) and rows Pinterest rejects
#     (event_fail faults).
# The flow (against one pinterest-sandbox with --capture-dir, a short access-token TTL and faults
# on both endpoints: $CANARY_FAULTS):
#   synchost check; sync (debug log); sync with JSON logs after new rows; sync --dry-run;
#   status and status --json; a sync with the wrong token (exit 3); synchost connect (OAuth, the
#   script plays the browser with curl); syncs through the connection across an access-token
#   expiry and a revocation (forced refresh after a 401).
# Scanned, byte for byte (grep -a, case-insensitive): every stdout/stderr of synchost, its log
# files (--log-file, text and JSON), the state directory (SQLite state databases, WAL/journal,
# lock files) EXCEPT the credentials file (credentials.json legitimately holds the OAuth tokens
# and the client secret; it is checked to exist and be mode 0600 instead), and every request
# body the sandbox captured. Exits 1 naming each file and canary found, 0 when clean.
#
# Environment:
#   BUILD_DIR      build with synchost, the plugin and pinterest-sandbox (default build); built first
#                  unless NO_BUILD=1
#   CANARY_FAULTS  sandbox fault flags (default: 500 p=0.2, 429 p=0.1 with Retry-After, reset
#                  p=0.05, invalid_json p=0.03, event_fail:random p=0.1; token endpoint 500 p=0.3)
#   KEEP=1         keep the temporary directory
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
faults=${CANARY_FAULTS:---fault status:500,p=0.2 --fault status:429,p=0.1,retry_after=1 --fault reset,p=0.05 --fault invalid_json,p=0.03 --fault event_fail:random,p=0.1 --fault status:500,p=0.3,target=token}

if [ -z "${NO_BUILD:-}" ]; then
  cmake --build "$build" -j "${JOBS:-2}" --target synchost pinterest_conversions pinterest-sandbox >/dev/null
fi
for f in host/synchost tests/sandbox/pinterest-sandbox plugins/libpinterest_conversions.so plugins/pinterest_conversions.json; do
  [ -e "$build/$f" ] || { echo "canary-scan: missing $build/$f (build first)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/canary-scan.XXXXXX")
mkdir -p "$tmp/bin/plugins" "$tmp/out" "$tmp/capture" "$tmp/state"
cp "$build/host/synchost" "$build/tests/sandbox/pinterest-sandbox" "$tmp/bin/"
cp "$build/plugins/libpinterest_conversions.so" "$build/plugins/pinterest_conversions.json" "$tmp/bin/plugins/"
synchost=$tmp/bin/synchost
plugins=$tmp/bin/plugins
sandbox_pid=""
connect_pid=""
cleanup() {
  for p in $connect_pid $sandbox_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "${KEEP:-}" ]; then echo "canary-scan: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The canaries. None of these strings occurs in anything the script itself puts in a path, a
# file name, a sync name or an environment variable name.
static_token=cnry-static-token-5f1e2d0b
wrong_token=cnry-wrong-token-a81b77c3
client_secret=cnry-client-secret-93c4e1aa
client_id=scan-client

"$tmp/bin/pinterest-sandbox" --static-token "$static_token" --client-id "$client_id" --client-secret "$client_secret" \
  --access-token-ttl 63 --ca-out "$tmp/ca.pem" --capture-dir "$tmp/capture" --seed 11 $faults \
  >"$tmp/sandbox.out" 2>"$tmp/sandbox.err" &
sandbox_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(head -n 1 "$tmp/sandbox.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "canary-scan: sandbox did not start: $(cat "$tmp/sandbox.err")" >&2; exit 1; }

# Source rows: canary identities; every 10th email invalid, every 25th row phone-only.
rows=0
add_rows() {  # N
  local from=$((rows + 1)) to=$((rows + $1))
  sqlite3 "$tmp/shop.db" "CREATE TABLE IF NOT EXISTS orders(order_id TEXT PRIMARY KEY, event_type TEXT,
      created_at INTEGER, email TEXT, phone TEXT, first_name TEXT, last_name TEXT, external_id TEXT, total REAL);
    WITH RECURSIVE c(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM c WHERE i < $to)
    INSERT INTO orders SELECT 'o' || i, 'checkout', CAST(strftime('%s', 'now') AS INTEGER) - 600,
      CASE WHEN i % 25 = 0 THEN NULL
           WHEN i % 10 = 0 THEN 'cnry-bad-email-' || i || '.canary-mail.example'
           ELSE ' Cnry.Person.' || i || '@Canary-Mail.EXAMPLE ' END,
      '+1 (415) 555-013' || (i % 10), 'CnryFirstName', 'CnryLastName' || i, 'cnry-ext-id-' || i, i % 100 + 0.99
    FROM c;"
  rows=$to
}
add_rows 1500

write_sync() {  # NAME CREDENTIALS_JSON
  cat >"$tmp/$1.json" <<EOF
{
  "name": "$1",
  "source": {"type": "sqlite", "database": "shop.db", "query": "SELECT * FROM orders"},
  "primary_key": "order_id",
  "mode": "insert",
  "batch_size": 100,
  "destination": {"plugin": "pinterest_conversions", "config": {
    "ad_account_id": "549755885175", "api_base_url": "$url", "ca_file": "$tmp/ca.pem",
    "calls_per_minute": 1000000, "retry_initial_backoff_ms": 20, "retry_max_backoff_ms": 200,
    "retry_max_elapsed_seconds": 20, "max_in_flight": 4}},
  "credentials": $2,
  "mapping": {"event_name": "event_type", "event_time": "created_at", "email": "email", "phone": "phone",
              "first_name": "first_name", "last_name": "last_name", "external_id": "external_id",
              "value": "total", "order_id": "order_id"}
}
EOF
}
write_sync static_sync '{"token_env": "SCAN_TOKEN"}'
write_sync wrong_sync '{"token_env": "SCAN_WRONG_TOKEN"}'
write_sync oauth_sync '"scan-connection"'

steps=0
hs() {  # LABEL EXPECTED_CODES ARGS...: one synchost command, its output kept for the scan
  local label=$1 codes=$2
  shift 2
  steps=$((steps + 1))
  set +e
  (cd "$tmp" && SCAN_TOKEN=$static_token SCAN_WRONG_TOKEN=$wrong_token SCAN_SECRET=$client_secret \
    "$synchost" "$@" --plugin-path "$plugins" --state-dir "$tmp/state" \
    >"$tmp/out/$steps-$label.stdout" 2>"$tmp/out/$steps-$label.stderr")
  code=$?
  set -e
  printf 'canary-scan: %-28s exit %s\n' "$label" "$code"
  case " $codes " in *" $code "*) ;; *)
    echo "canary-scan: $label: unexpected exit $code (expected one of: $codes)"
    tail -n 5 "$tmp/out/$steps-$label.stderr"
    unexpected=$((unexpected + 1)) ;;
  esac
}
# A sync under faults may need a second run (exit 4: transient, rows kept); 1 = some rows rejected.
sync_until_done() {  # LABEL ARGS...
  local label=$1
  shift
  for attempt in 1 2 3 4 5; do
    hs "$label-$attempt" "0 1 4" "$@"
    [ "$code" -eq 4 ] || break
  done
}
unexpected=0

# 1. Static token: check, syncs with debug and JSON logs, dry run, status.
hs check "0 4" check static_sync.json --log-level debug --log-file "$tmp/out/check.log"
sync_until_done sync-debug sync static_sync.json --log-level debug --log-file "$tmp/out/sync-debug.log"
add_rows 500
sync_until_done sync-json sync static_sync.json --json --log-json --log-level debug --log-file "$tmp/out/sync-json.log"
hs dry-run "0 1" sync static_sync.json --dry-run --limit 300 --log-level debug
hs status "0" status static_sync.json
hs status-json "0" status static_sync.json --json
# 2. The wrong token: authentication fails (exit 3), with its messages on stderr and in the log.
hs wrong-token "3" sync wrong_sync.json --log-level debug --log-file "$tmp/out/wrong-token.log"
hs wrong-check "3" check wrong_sync.json --log-level debug

# 3. OAuth: connect (the script plays the browser), then syncs that refresh the access token.
connect_once() {  # ATTEMPT: one `synchost connect`; returns its exit status
  local n=$1 authorize="" redirect
  steps=$((steps + 1))
  (cd "$tmp" && SCAN_SECRET=$client_secret exec "$synchost" connect pinterest_conversions --name scan-connection \
    --client-id "$client_id" --client-secret-env SCAN_SECRET --authorize-url "$url/oauth/" \
    --token-url "$url/v5/oauth/token" --ca-file "$tmp/ca.pem" --no-browser --timeout 60 \
    --plugin-path "$plugins" --state-dir "$tmp/state" >"$tmp/out/$steps-connect.stdout" 2>"$tmp/out/$steps-connect.stderr") &
  connect_pid=$!
  for _ in $(seq 1 200); do
    authorize=$(sed -n 's/^Open this URL to authorize: //p' "$tmp/out/$steps-connect.stdout" 2>/dev/null | head -n 1)
    [ -n "$authorize" ] && break
    kill -0 "$connect_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -n "$authorize" ]; then
    redirect=$(curl -sS --cacert "$tmp/ca.pem" -o /dev/null -w '%{redirect_url}' "$authorize" || true)
    [ -z "$redirect" ] || curl -sS -o "$tmp/out/$steps-redirect.html" "$redirect" || true
  fi
  local rc=0
  wait "$connect_pid" || rc=$?
  connect_pid=""
  printf 'canary-scan: %-28s exit %s\n' "connect-$n" "$rc"
  return "$rc"
}
connected=no
for attempt in 1 2 3 4 5; do  # the token endpoint has injected 500s: connect may need another go
  if connect_once "$attempt"; then connected=yes; break; fi
done
[ "$connected" = yes ] || { echo "canary-scan: synchost connect never succeeded"; unexpected=$((unexpected + 1)); }
creds=$tmp/state/credentials.json
tokens_of() { grep -o '"\(access\|refresh\)_token": *"[^"]*"' "$creds" 2>/dev/null | sed 's/.*"\([^"]*\)"$/\1/' || true; }
issued=$(tokens_of)
sync_until_done oauth-sync sync oauth_sync.json --log-level debug --log-file "$tmp/out/oauth.log"
sleep 4  # the access token (TTL 63 s) is now within synchost's 60 s refresh margin: the next run refreshes it
add_rows 300
issued="$issued $(tokens_of)"
sync_until_done oauth-after-expiry sync oauth_sync.json --log-level debug --log-file "$tmp/out/oauth.log"
issued="$issued $(tokens_of)"
curl -sS --fail --cacert "$tmp/ca.pem" -X POST "$url/_sandbox/revoke" >/dev/null  # 401 -> forced refresh
add_rows 200
sync_until_done oauth-after-revoke sync oauth_sync.json --log-json --log-level debug --log-file "$tmp/out/oauth.log"
issued="$issued $(tokens_of)"
hs oauth-status "0" status oauth_sync.json --json

stats=$(curl -sS --fail --cacert "$tmp/ca.pem" "$url/_sandbox/stats")
refreshes=$(grep -o '"token_refreshes":[0-9]*' <<<"$stats" | cut -d: -f2)
faults_injected=$(grep -o '"faults_injected":[0-9]*' <<<"$stats" | cut -d: -f2)
captured=$(find "$tmp/capture" -type f | wc -l)

# The scan.
{
  printf '%s\n' "$static_token" "$wrong_token" "$client_secret"
  printf '%s\n' $issued | sort -u
  # Raw and normalized personal data: distinctive parts of every canary identity.
  printf '%s\n' cnry.person canary-mail.example cnry-bad-email 415555013 cnryfirstname cnrylastname cnry-ext-id
} | grep -v '^$' >"$tmp/canaries"
if [ -f "$creds" ]; then
  mode=$(stat -c %a "$creds")
  [ "$mode" = 600 ] || { echo "canary-scan: $creds has mode $mode, not 600"; unexpected=$((unexpected + 1)); }
fi
mapfile -t files < <(find "$tmp/out" "$tmp/state" "$tmp/capture" -type f ! -path "$creds" | sort)
found=0
for f in "${files[@]}"; do
  if hits=$(grep -a -o -i -F -f "$tmp/canaries" "$f" | sort | uniq -c); then
    echo "canary-scan: LEAK in ${f#"$tmp"/}:"
    sed 's/^/    /' <<<"$hits" | head -n 10
    found=$((found + 1))
  fi
  if hits=$(grep -a -o -E 'pin[ar]_[0-9a-f]{64}' "$f" | sort -u); then
    echo "canary-scan: LEAK of a sandbox-issued token in ${f#"$tmp"/}: $(head -n 1 <<<"$hits" | cut -c1-12)..."
    found=$((found + 1))
  fi
done
bytes=$(cat "${files[@]}" | wc -c)

echo "canary-scan: $steps synchost commands + connect, $rows source rows, $faults_injected faults injected," \
  "$refreshes token refreshes, $captured request bodies captured"
echo "canary-scan: scanned ${#files[@]} files ($bytes bytes) for $(wc -l <"$tmp/canaries") canaries" \
  "(+ the pina_/pinr_ token pattern); excluded: state/credentials.json"
if [ "$found" -gt 0 ] || [ "$unexpected" -gt 0 ]; then
  echo "canary-scan: FAIL: $found files with canaries, $unexpected unexpected exits"
  exit 1
fi
echo "canary-scan: ok: no canary in anything synchost wrote or sent"

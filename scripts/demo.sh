#!/usr/bin/env bash
# The main job, end to end from a fresh clone:
#   1. install dependencies and build
#   2. generate an example shop database (100,000 orders with messy emails and phones)
#   3. start pinterest-sandbox, a local Pinterest-compatible HTTPS server
#   4. connect through the OAuth 2.0 flow against it, without a human (curl follows the redirect)
#   5. run the insert sync with its progress bar, run it again (nothing new is sent), show status
#      and match quality (text, and out/demo/quality.html)
#   6. run the audience sync, then stop the sandbox
# Everything lives under out/demo/. Pointing the sync at the real API: delete the line with
# SANDBOX_PORT in examples/shop-checkouts.json and connect with your Pinterest app's client id.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh
scripts/build.sh
bin=$root/${BUILD_DIR:-build}
demo=$root/out/demo
rows=${DEMO_ROWS:-100000}
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"
export SYNCHOST_STATE_DIR=$demo/.synchost

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Example shop database: $rows orders"
sqlite3 shop.db -cmd ".parameter set @n $rows" < "$root/examples/make_shop_db.sql"
sqlite3 shop.db "SELECT order_id, event_type, email, phone, total, currency FROM orders LIMIT 4;"

step "pinterest-sandbox"
mkdir -p captured
"$bin/tests/sandbox/pinterest-sandbox" --ca-out sandbox-ca.pem --capture-dir captured > sandbox.out 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true; [ -n "${connect_pid:-}" ] && kill $connect_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s sandbox.out ] && break; sleep 0.1; done
url=$(head -1 sandbox.out)
case $url in https://*) ;; *) echo "pinterest-sandbox did not start: $url" >&2; exit 1;; esac
port=${url##*:}
echo "listening on $url"
for f in shop-checkouts newsletter-audience; do
  sed "s/SANDBOX_PORT/$port/" "$root/examples/$f.json" > "$f.json"
done

step "synchost connect (OAuth 2.0 authorization code flow, answered by curl)"
SYNCHOST_CLIENT_SECRET=sandbox-secret "$bin/host/synchost" connect pinterest_conversions --name pinterest \
  --client-id sandbox-client --authorize-url "$url/oauth/" --token-url "$url/v5/oauth/token" \
  --ca-file sandbox-ca.pem --no-browser --timeout 60 > connect.out 2>&1 &
connect_pid=$!
for _ in $(seq 100); do grep -q '^Open this URL to authorize: ' connect.out && break; sleep 0.1; done
auth_url=$(sed -n 's/^Open this URL to authorize: //p' connect.out)
echo "authorize URL: ${auth_url%%\?*}?..."
curl -sS --cacert sandbox-ca.pem -L -o /dev/null "$auth_url"
wait $connect_pid
connect_pid=
grep -v '^Open this URL' connect.out
ls -l .synchost/credentials.json

step "synchost check shop-checkouts.json"
"$bin/host/synchost" check shop-checkouts.json

step "synchost sync shop-checkouts.json"
"$bin/host/synchost" sync shop-checkouts.json || [ $? -eq 1 ]   # 1: some rows were rejected, with reasons

step "synchost sync shop-checkouts.json (again: insert mode sends nothing new)"
"$bin/host/synchost" sync shop-checkouts.json

step "synchost status shop-checkouts.json"
"$bin/host/synchost" status shop-checkouts.json

step "synchost quality shop-checkouts.json (local coverage beside the sandbox's Event Quality Score)"
"$bin/host/synchost" quality shop-checkouts.json --html quality.html
echo "HTML report: $demo/quality.html"

step "synchost sync newsletter-audience.json (audience, add mode)"
"$bin/host/synchost" sync newsletter-audience.json
sqlite3 shop.db "UPDATE customers SET newsletter = 0 WHERE customer_id <= 300; UPDATE customers SET newsletter = 1 WHERE customer_id % 4 = 0 AND customer_id > 9000;"
"$bin/host/synchost" sync newsletter-audience.json

step "What the sandbox received"
curl -sS --cacert sandbox-ca.pem "$url/_sandbox/stats"; echo
echo "request bodies captured in $demo/captured/ (emails and phones are SHA-256 hashes)"

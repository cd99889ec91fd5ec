#!/usr/bin/env bash
# HTTP throughput of one node on the embedded default (SQLite, no Redis), measured with wrk on
# loopback: GET /healthz (the server alone) and GET /api/v1/profile (JWT check, rate limit, user
# read through the cache, usage read from SQLite). Prints wrk's figures; docs/SCALING.md quotes them.
#   bench/http_wrk.sh                       # the release binary of `make bench`
#   BENCH_BIN=path/to/evolveai bench/http_wrk.sh
# Knobs: WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_DURATION (10s), SERVER_THREADS (cores).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BENCH_BIN:-build/release/src/evolveai}
if ! command -v wrk >/dev/null 2>&1; then
  echo "http_wrk: wrk is not installed (scripts/setup-deps --bench installs it); skipped"
  exit 0
fi
if [[ ! -x "$bin" ]]; then
  echo "http_wrk: no binary at $bin; skipped"
  exit 0
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bot_token="123456:bench-token-not-used-for-telegram"
# The bot role stays off (no Telegram traffic); sign-in only needs the token to verify init data.
EVOLVEAI_SERVER__PORT=$port EVOLVEAI_SERVER__DATA_DIR="$work/data" EVOLVEAI_LOG__LEVEL=warn \
  EVOLVEAI_SERVER__THREADS=${SERVER_THREADS:-0} EVOLVEAI_SERVER__ROLES=api \
  EVOLVEAI_TELEGRAM__BOT_TOKEN=$bot_token EVOLVEAI_TELEGRAM__API_BASE_URL=http://127.0.0.1:9 \
  EVOLVEAI_RATE_LIMITS__API_PER_MIN=1000000 \
  "$bin" serve >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

# A Mini App sign-in (initData signed with the bot token, as Telegram does) for an access token.
init_data=$(python3 - "$bot_token" <<'EOF'
import hashlib, hmac, json, sys, time, urllib.parse
token = sys.argv[1]
fields = {"auth_date": str(int(time.time())), "query_id": "bench",
          "user": json.dumps({"id": 424242, "first_name": "Bench", "username": "bench"}, separators=(",", ":"))}
check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
fields["hash"] = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
print(urllib.parse.urlencode(fields))
EOF
)
token=$(curl -fsS "http://127.0.0.1:$port/api/v1/auth" -H 'Content-Type: application/json' \
  -d "{\"init_data\": \"$init_data\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-64}
duration=${WRK_DURATION:-10s}
echo "http_wrk: $bin, $(nproc) cores, wrk -t$threads -c$connections -d$duration, loopback"
echo "--- GET /healthz"
wrk -t"$threads" -c"$connections" -d"$duration" --latency "http://127.0.0.1:$port/healthz"
echo "--- GET /api/v1/profile (signed in)"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/profile"

#!/usr/bin/env bash
# One engine's part of bench/http_wrk.sh: migrates and seeds a fresh database, serves it with
# `evolveai serve` against the fake model, drives every endpoint with wrk and, when this engine
# is STREAM_ENGINE, holds STREAM_CLIENTS server-sent-event streams open against the slow fake.
#   bench/load/engine_run.sh sqlite|postgres RESULTS_DIR
# PostgreSQL and Redis come from the environment of scripts/with-test-services
# (EVOLVEAI_TEST_PG_URL, EVOLVEAI_TEST_REDIS_URL). Writes RESULTS_DIR/http_<engine>.jsonl (one
# JSON object per endpoint) and RESULTS_DIR/stream.json; bench/load/report.py reads them.
set -euo pipefail
engine=$1
results=$2
cd "$(dirname "$0")/../.."
root=$PWD

bin=${BENCH_BIN:-build/release/src/evolveai}
fake_bin=${BENCH_FAKE_BIN:-build/release/tests/evolveai-fake-services}
sse_bin=${BENCH_SSE_BIN:-build/release/bench/evolveai_sse_load}
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-64}
duration=${WRK_DURATION:-15s}
endpoints=${BENCH_ENDPOINTS:-healthz auth profile chat search history}
stream_clients=${STREAM_CLIENTS:-10000}
stream_engine=${STREAM_ENGINE:-postgres}
stream_tokens=${STREAM_TOKENS:-50}
stream_interval_ms=${STREAM_TOKEN_INTERVAL_MS:-10}
log_level=${BENCH_LOG_LEVEL:-warn}
bot_token="123456:bench-token-not-used-for-telegram"

# Every stream is a socket in this client, in the server (and its model call) and in the fake.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d "${TMPDIR:-/tmp}/evolveai-bench.XXXXXX")
server_pid=
fake_pid=
sampler_pid=
stop_pid() {
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$sampler_pid"
  stop_pid "$server_pid"
  stop_pid "$fake_pid"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the fake model; sets fake_pid and gemini_url.
start_fake() {
  local interval_ms=$1 reply=$2
  stop_pid "$fake_pid"
  "$fake_bin" --token-interval-ms "$interval_ms" --reply "$reply" >"$work/fake.out" 2>"$work/fake.err" &
  fake_pid=$!
  gemini_url=
  for _ in $(seq 1 100); do
    gemini_url=$(sed -n 's/^gemini_base_url=//p' "$work/fake.out")
    [[ -n "$gemini_url" ]] && return 0
    sleep 0.1
  done
  echo "bench: the fake model did not start" >&2
  cat "$work/fake.err" >&2
  exit 1
}

port=$(free_port)
server_env=(
  "EVOLVEAI_SERVER__PORT=$port" "EVOLVEAI_SERVER__DATA_DIR=$work/data" "EVOLVEAI_SERVER__ROLES=api"
  "EVOLVEAI_SERVER__THREADS=${SERVER_THREADS:-0}" "EVOLVEAI_LOG__LEVEL=$log_level"
  "EVOLVEAI_AUTH__JWT_SECRET=bench-jwt-secret-of-at-least-thirty-two-bytes"
  "EVOLVEAI_TELEGRAM__BOT_TOKEN=$bot_token" "EVOLVEAI_TELEGRAM__API_BASE_URL=http://127.0.0.1:9"
  "EVOLVEAI_LLM__PROVIDER=gemini" "EVOLVEAI_LLM__MODEL=gemini-fake" "EVOLVEAI_LLM__API_KEY=bench-key"
  # The benchmark's users must not run out: see "Limits raised" in bench/results/latest.md.
  "EVOLVEAI_LIMITS__FREE_DAILY_MESSAGES=1000000"
  "EVOLVEAI_RATE_LIMITS__AUTH_PER_MIN=1000000" "EVOLVEAI_RATE_LIMITS__CHAT_PER_MIN=1000000"
  "EVOLVEAI_RATE_LIMITS__API_PER_MIN=1000000"
)
pg_url=
if [[ $engine == postgres ]]; then
  pg_url=${EVOLVEAI_TEST_PG_URL:?run under scripts/with-test-services}
  server_env+=("EVOLVEAI_DATABASE__URL=$pg_url" "EVOLVEAI_REDIS__URL=$EVOLVEAI_TEST_REDIS_URL")
fi
# evolveai refuses EVOLVEAI_* variables it does not know.
unset EVOLVEAI_TEST_PG_URL EVOLVEAI_TEST_REDIS_URL
mkdir -p "$work/data"

# Starts `evolveai serve` against gemini_url with extra VAR=VALUE settings; sets server_pid.
start_server() {
  stop_pid "$server_pid"
  env "${server_env[@]}" "EVOLVEAI_LLM__BASE_URL=$gemini_url" "$@" "$bin" serve >"$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: evolveai serve did not become ready" >&2
  tail -n 30 "$work/serve.log" >&2
  exit 1
}

# Resident memory of the server (kB), now (VmRSS) or its peak (VmHWM).
rss_kb() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$server_pid/status"; }
# CPU time of the server in clock ticks (user + system).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
# Samples VmRSS every 100 ms into $work/rss.max until stopped.
start_sampler() {
  echo 0 >"$work/rss.max"
  (
    max=0
    while kill -0 "$server_pid" 2>/dev/null; do
      now=$(rss_kb VmRSS 2>/dev/null || echo 0)
      if ((now > max)); then
        max=$now
        echo "$max" >"$work/rss.max"
      fi
      sleep 0.1
    done
  ) &
  sampler_pid=$!
}
stop_sampler() {
  stop_pid "$sampler_pid"
  sampler_pid=
}

# --- Database: migrated and seeded before the server starts ---------------------------------
start_fake 0 "Sure! Here is a short and friendly answer from the instant fake model."
seed_started=$(date +%s.%N)
env "${server_env[@]}" "$bin" migrate up >"$work/migrate.log" 2>&1 || {
  cat "$work/migrate.log" >&2
  exit 1
}
if [[ $engine == postgres ]]; then
  python3 bench/load/seed.py postgres "$pg_url"
  # As a database in service would be: vacuumed and analysed, so that autovacuum does not
  # start on the fresh 200,000 rows in the middle of a measurement.
  psql -X -q "$pg_url" -c 'VACUUM (ANALYZE)'
  psql -X -At "$pg_url" -c 'SHOW server_version' >"$results/postgres_version"
else
  python3 bench/load/seed.py sqlite "$work/data/evolveai.db"
fi
seed_seconds=$(python3 -c "import time; print(round(time.time() - $seed_started, 1))")
echo "bench: $engine seeded in ${seed_seconds}s"
echo "$seed_seconds" >"$results/seed_seconds_$engine"

# --- HTTP endpoints under wrk -----------------------------------------------------------------
start_server
python3 bench/load/seed.py auth "http://127.0.0.1:$port" "$bot_token" "$work"
cp "$work/tokens.txt" "$work/stream_tokens.txt"
declare -A paths=([healthz]=/healthz [auth]=/api/v1/auth [profile]=/api/v1/profile [chat]=/api/v1/chat
  [search]=/api/v1/search [history]=/api/v1/history)
declare -A methods=([healthz]=GET [auth]=POST [profile]=GET [chat]=POST [search]=GET [history]=GET)
clock_ticks=$(getconf CLK_TCK)
for name in $endpoints; do
  start_sampler
  ticks_before=$(cpu_ticks)
  started=$(date +%s.%N)
  BENCH_WRK_DIR="$root/bench/wrk" BENCH_DATA_DIR="$work" \
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "bench/wrk/$name.lua" \
    "http://127.0.0.1:$port${paths[$name]}" >"$work/wrk_$name.txt" 2>&1 || true
  ended=$(date +%s.%N)
  ticks_after=$(cpu_ticks)
  stop_sampler
  line=$(sed -n 's/^BENCH_JSON //p' "$work/wrk_$name.txt")
  if [[ -z "$line" ]]; then
    echo "bench: wrk gave no figures for $name:" >&2
    cat "$work/wrk_$name.txt" >&2
    line='{}'
  fi
  python3 - "$line" "$name" "${methods[$name]} ${paths[$name]}" "$engine" "$(cat "$work/rss.max")" \
    "$ticks_before" "$ticks_after" "$clock_ticks" "$started" "$ended" >>"$results/http_$engine.jsonl" <<'EOF'
import json, sys
row = json.loads(sys.argv[1])
row.update(name=sys.argv[2], endpoint=sys.argv[3], engine=sys.argv[4], rss_peak_kb=int(sys.argv[5]))
ticks = int(sys.argv[7]) - int(sys.argv[6])
row["cpu_percent"] = round(100.0 * ticks / int(sys.argv[8]) / (float(sys.argv[10]) - float(sys.argv[9])), 1)
print(json.dumps(row))
EOF
  echo "bench: $engine $name: $(tail -n 1 "$results/http_$engine.jsonl")"
done
rss_kb VmHWM >"$results/rss_hwm_kb_$engine"
grep -v '"level":"info"' "$work/serve.log" | tail -n 20 >"$results/serve_tail_$engine.log" || true
stop_pid "$server_pid"
server_pid=

# --- Server-sent-event streams against the slow fake ------------------------------------------
if [[ $engine != "$stream_engine" ]] || ((stream_clients == 0)); then
  exit 0
fi
reply=$(python3 -c "import sys; n = int(sys.argv[1]); print(' '.join(f'word{i}' for i in range(1, n + 1)))" \
  "$stream_tokens")
start_fake "$stream_interval_ms" "$reply"
fake_port=$(sed -E 's#^http://127\.0\.0\.1:([0-9]+)/.*#\1#' <<<"$gemini_url")
timeout_s=${STREAM_TIMEOUT_S:-180}
# Each stream is two sockets in the server (the client's and its model call): fewer streams than
# asked when the open-file limit cannot hold them (the report says so).
stream_requested=$stream_clients
fd_room=$((($(ulimit -n) - 500) / 2))
if ((stream_clients > fd_room)); then
  echo "bench: the open-file limit ($(ulimit -n)) holds $fd_room streams, not $stream_clients: running $fd_room"
  stream_clients=$fd_room
fi
echo "bench: $stream_clients streams straight to the fake model (its own first-token time)"
"$sse_bin" --port "$fake_port" --clients "$stream_clients" --mode fake --timeout-s "$timeout_s" \
  >"$work/stream_baseline.json"
cat "$work/stream_baseline.json"
# Every turn of the burst needs the database before its model call: they queue for the pool
# longer than the default acquire_timeout allows (STREAM_ACQUIRE_TIMEOUT).
start_server "EVOLVEAI_SERVER__MAX_CONNECTIONS=$((stream_clients + 1000))" \
  "EVOLVEAI_DATABASE__ACQUIRE_TIMEOUT=${STREAM_ACQUIRE_TIMEOUT:-120s}"
sleep 2
idle_kb=$(rss_kb VmRSS)
start_sampler
echo "bench: $stream_clients streams through evolveai serve ($engine)"
"$sse_bin" --port "$port" --clients "$stream_clients" --tokens "$work/stream_tokens.txt" --mode server \
  --timeout-s "$timeout_s" >"$work/stream_server.json"
stop_sampler
cat "$work/stream_server.json"
hwm_kb=$(rss_kb VmHWM)
fd_errors=$(grep -ci 'too many open files' "$work/serve.log" || true)
grep -v '"level":"info"' "$work/serve.log" | tail -n 20 >"$results/serve_tail_stream.log" || true
python3 - "$work/stream_baseline.json" "$work/stream_server.json" "$idle_kb" "$(cat "$work/rss.max")" "$hwm_kb" \
  "$engine" "$stream_tokens" "$stream_interval_ms" "$fd_errors" "$(ulimit -n)" "$stream_requested" \
  "${STREAM_ACQUIRE_TIMEOUT:-120s}" >"$results/stream.json" <<'EOF'
import json, sys
out = {"baseline": json.load(open(sys.argv[1])), "server": json.load(open(sys.argv[2])),
       "idle_rss_kb": int(sys.argv[3]), "sampled_peak_rss_kb": int(sys.argv[4]), "peak_rss_kb": int(sys.argv[5]),
       "engine": sys.argv[6], "tokens": int(sys.argv[7]), "token_interval_ms": int(sys.argv[8]),
       "server_fd_errors": int(sys.argv[9]), "nofile_limit": int(sys.argv[10]), "requested": int(sys.argv[11]),
       "acquire_timeout": sys.argv[12]}
print(json.dumps(out))
EOF

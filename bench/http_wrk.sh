#!/usr/bin/env bash
# HTTP load figures of `evolveai serve` on both storage engines, and the streaming benchmark
# (issue 10). For each engine — PostgreSQL + Redis (from scripts/with-test-services) and the
# embedded SQLite default — bench/load/engine_run.sh seeds 1,000 users and 200,000 messages,
# serves them against the fake model and drives GET /healthz, POST /api/v1/auth,
# GET /api/v1/profile, POST /api/v1/chat, GET /api/v1/search and GET /api/v1/history with wrk;
# then STREAM_CLIENTS concurrent SSE chat streams are held open against a slow fake model.
# Prints one table and writes it to bench/results/latest.md (bench/load/report.py).
#
#   bench/http_wrk.sh                                   # run by `make bench`
#   WRK_DURATION=3s STREAM_CLIENTS=500 bench/http_wrk.sh  # a quick check
# Knobs (defaults are the issue's): WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_DURATION (15s),
# BENCH_ENGINES ("postgres sqlite"), BENCH_ENDPOINTS (all six), SEED_USERS (1000),
# SEED_MESSAGES (200000), STREAM_CLIENTS (10000; 0 skips), STREAM_ENGINE (postgres),
# STREAM_TOKENS (50), STREAM_TOKEN_INTERVAL_MS (10), SERVER_THREADS (0 = cores),
# BENCH_LOG_LEVEL (warn), BENCH_RESULTS (bench/results/latest.md), BENCH_BIN, BENCH_FAKE_BIN,
# BENCH_SSE_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BENCH_BIN:-build/release/src/evolveai}
export BENCH_BIN=$bin
export BENCH_FAKE_BIN=${BENCH_FAKE_BIN:-build/release/tests/evolveai-fake-services}
export BENCH_SSE_BIN=${BENCH_SSE_BIN:-build/release/bench/evolveai_sse_load}
out=${BENCH_RESULTS:-bench/results/latest.md}
if ! command -v wrk >/dev/null 2>&1; then
  echo "http_wrk: wrk is not installed (scripts/setup-deps --bench installs it); skipped"
  exit 0
fi
for tool in "$bin" "$BENCH_FAKE_BIN" "$BENCH_SSE_BIN"; do
  if [[ ! -x "$tool" ]]; then
    echo "http_wrk: no binary at $tool (cmake --build --preset release builds it); skipped"
    exit 0
  fi
done

results=$(mktemp -d "${TMPDIR:-/tmp}/evolveai-bench-results.XXXXXX")
trap 'rm -rf "$results"' EXIT

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (with uncommitted changes)"
fi
python3 - "$results/meta.json" <<EOF
import json, sys
meta = {
    "date": "$(date -u +%Y-%m-%dT%H:%MZ)", "commit": "$commit",
    "cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)", "cores": "$(nproc)",
    "ram": "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)", "kernel": "$(uname -r)",
    "evolveai": "$("$bin" version 2>&1 | head -n 1)",
    "redis": "$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')",
    "wrk": "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)",
    "threads": "${WRK_THREADS:-2}", "connections": "${WRK_CONNECTIONS:-64}", "duration": "${WRK_DURATION:-15s}",
    "users": "${SEED_USERS:-1000}", "messages": "${SEED_MESSAGES:-200000}", "log_level": "${BENCH_LOG_LEVEL:-warn}",
}
json.dump(meta, open(sys.argv[1], "w"))
EOF

status=0
for engine in ${BENCH_ENGINES:-postgres sqlite}; do
  echo "http_wrk: $engine"
  if [[ $engine == postgres ]]; then
    scripts/with-test-services bench/load/engine_run.sh postgres "$results" || status=1
  else
    bench/load/engine_run.sh "$engine" "$results" || status=1
  fi
done
notes=bench/results/analysis.md
python3 bench/load/report.py "$results" "$out" "$([[ -f $notes ]] && echo "$notes")"
# The raw figures and the server's last warnings, for a closer look.
rm -rf bench/results/raw
cp -r "$results" bench/results/raw
echo "http_wrk: written to $out (raw figures in bench/results/raw/)"
exit "$status"

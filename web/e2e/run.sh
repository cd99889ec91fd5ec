#!/usr/bin/env bash
# The web app end to end: starts the fake model (evolveai-fake-services) and a real
# `evolveai serve` on SQLite in a temporary directory and a free port, creates an admin, then
# drives Debian's Chromium through the chat app and the admin panel (e2e.mjs).
# Usage: web/e2e/run.sh <path of evolveai> <path of evolveai-fake-services>
# Screenshots and the server's log go to web/test-results/.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <evolveai binary> <evolveai-fake-services binary>" >&2
  exit 2
fi
evolveai=$1
fakes=$2
here=$(cd "$(dirname "$0")" && pwd)
web=$(dirname "$here")
root=$(dirname "$web")

chromium=${EVOLVEAI_CHROMIUM:-$(command -v chromium || true)}
if [[ -z "$chromium" || ! -x "$chromium" ]]; then
  echo "web_e2e: Debian's chromium is not installed; run scripts/setup-deps" >&2
  exit 1
fi
# The server under test is configured by its file alone: no EVOLVEAI_* overrides from outside.
while read -r name; do
  unset "$name"
done < <(compgen -e | grep '^EVOLVEAI_' || true)

# The app, its node packages (playwright-core) and the signing tool; each step is quick when current.
"$root/scripts/build-web"
"$root/scripts/setup-test-tools"

work=$(mktemp -d)
results="$web/test-results"
mkdir -p "$results"
rm -f "$results"/*.png "$results/server.log"
fakes_pid=""
server_pid=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$fakes_pid" ]]; then
    kill -TERM "$fakes_pid" 2>/dev/null || true
    wait "$fakes_pid" 2>/dev/null || true
  fi
  [[ -f "$work/server.log" ]] && cp "$work/server.log" "$results/server.log"
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# Waits up to $3 seconds for a background process to print `$4=<value>` to a file; prints the value.
value_of() {
  local file=$1 pid=$2 seconds=$3 key=$4 line=""
  for ((i = 0; i < seconds * 10; i++)); do
    line=$(grep -m 1 "^$key=" "$file" 2>/dev/null || true)
    [[ -n "$line" ]] && { echo "${line#"$key"=}"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

bot_token="654321:E2E-bot-token-for-the-web-app-tests"
"$fakes" --bot-token "$bot_token" >"$work/fakes.out" 2>"$work/fakes.err" &
fakes_pid=$!
if ! gemini_url=$(value_of "$work/fakes.out" "$fakes_pid" 20 gemini_base_url) ||
  ! telegram_url=$(value_of "$work/fakes.out" "$fakes_pid" 5 telegram_base_url); then
  echo "web_e2e: the fake services did not start" >&2
  cat "$work/fakes.err" >&2
  exit 1
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
admin_user="e2e-admin"
admin_password="e2e-admin-password-$RANDOM$RANDOM"
mkdir -p "$work/data"
cat >"$work/evolveai.toml" <<TOML
[server]
host = "127.0.0.1"
port = $port
threads = 2
data_dir = "$work/data"
web_root = "$web/dist"

[log]
level = "warn"

[database]
url = "sqlite://$work/data/evolveai.db"

[auth]
jwt_secret = "e2e-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"

[telegram]
bot_token = "$bot_token"
api_base_url = "$telegram_url"

[llm]
provider = "gemini"
model = "gemini-test"
api_key = "e2e-key"
base_url = "$gemini_url"

[limits]
free_daily_messages = 3

[rate_limits]
chat_per_min = 100
TOML

echo "$admin_password" | "$evolveai" admin create -u "$admin_user" -c "$work/evolveai.toml" >/dev/null

"$evolveai" serve -c "$work/evolveai.toml" >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for ((i = 0; i < 300; i++)); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "web_e2e: evolveai serve exited; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

E2E_BASE_URL="$base" \
  E2E_BOT_TOKEN="$bot_token" \
  E2E_ADMIN_USER="$admin_user" \
  E2E_ADMIN_PASSWORD="$admin_password" \
  E2E_CHROMIUM="$chromium" \
  E2E_RESULTS="$results" \
  E2E_SIGN_TOOL="$root/tests/tools/telegram-sign/sign.mjs" \
  E2E_DIST="$web/dist" \
  node "$here/e2e.mjs"

#!/usr/bin/env bash
# `make demo`: embedded stack + sample feed + pipeline + alert dispatcher + dashboard.
# Ctrl-C stops the dashboard and everything this script started (the stack too, unless
# SENTIMON_DEMO_KEEP=1). `make demo-down` cleans up after an interrupted run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=${SENTIMON_STATE_DIR:-.sentimon}
PORT=${SENTIMON_DASHBOARD_PORT:-18501}
export SENTIMON_KAFKA_PROFILE=embedded HF_HUB_OFFLINE=1
mkdir -p "$STATE"

stop_all() {
  for name in dashboard trickle dispatcher consumer; do
    if [ -f "$STATE/$name.pid" ]; then
      kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
      rm -f "$STATE/$name.pid"
    fi
  done
  if [ "${SENTIMON_DEMO_KEEP:-0}" != 1 ]; then "$BIN/sentimon" stack down || true; fi
}

if [ "${1:-}" = down ]; then stop_all; exit 0; fi

start_bg() {  # name, command...
  local name=$1; shift
  nohup "$@" >"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

"$BIN/sentimon" stack up
trap stop_all EXIT

echo "== feeding the sample history (4 h of event time, ending now)"
"$BIN/sentimon" produce data/sample/news.jsonl --topic news --rebase-now
"$BIN/sentimon" produce data/sample/social.jsonl --topic social --rebase-now

# The trickle runs at about the sample's own pace (~3 posts/min): much faster would be,
# correctly, a market-wide volume spike.
echo "== starting the consumer, the alert dispatcher and a live trickle of posts"
start_bg consumer "$BIN/sentimon" consume --metrics-port 19400
if "$BIN/sentimon" alerts --help >/dev/null 2>&1; then
  start_bg dispatcher "$BIN/sentimon" alerts dispatch
fi
start_bg trickle "$BIN/sentimon" produce data/sample/social.jsonl --topic social --live --rate 0.15

echo "== waiting for the aggregates (logs in $STATE/)"
for _ in $(seq 120); do
  if "$BIN/sentimon" query market --window 24h --json 2>/dev/null | grep -q '"count": [1-9]'; then break; fi
  sleep 1
done
"$BIN/sentimon" query top --window 1h --limit 10
"$BIN/sentimon" status

echo "== dashboard on http://127.0.0.1:$PORT (Ctrl-C to stop the demo)"
# In the background with its pid on file (it execs streamlit), so `make demo-down` also
# stops a dashboard whose demo was killed or lost its terminal; Ctrl-C ends the wait and
# the EXIT trap stops it with the rest.
"$BIN/sentimon" dashboard --port "$PORT" &
echo $! >"$STATE/dashboard.pid"
wait $!

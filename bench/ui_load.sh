#!/usr/bin/env bash
# Web UI under a fleet: simulated agents (bench/agent_load: 50 hosts x 40 containers, answering
# list_containers and streaming host and container stats at the agent's default 2 s) feed a dockmon-server;
# bench/ui_load.mjs opens the dashboard in Debian's Chromium and reports the time to the first useful paint
# and the browser's CPU while the live updates stream.
# Usage: bench/ui_load.sh [build-dir] [agents] [containers-per-agent]
#   e.g. bench/ui_load.sh build/release 50 40
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
agents=${2:-50}
containers=${3:-40}
server_bin=$build/apps/server/dockmon-server
load_bin=${AGENT_LOAD:-$build/bench/agent_load}
[[ -x "$server_bin" && -x "$load_bin" ]] || { echo "need $server_bin and $load_bin (cmake --build --preset release --target agent_load dockmon-server)"; exit 1; }
[[ -d web/node_modules/playwright-core ]] || { echo "need web/node_modules (make web)"; exit 1; }

work=$(mktemp -d /tmp/dockmon-uiload-XXXXXX)
password=uiload-password
load_pid=""
cleanup() {
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null || true
  if [[ -n "${server_pid:-}" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

DOCKMON_ADMIN_PASSWORD=$password "$server_bin" --listen 127.0.0.1:0 --data-dir "$work/server" \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
addr=""
for _ in $(seq 1 100); do
  addr=$(sed -n 's|.*listening on http://\([0-9.:]*\).*|\1|p' "$work/server.out")
  [[ -n "$addr" ]] && curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
[[ -n "$addr" ]] || { echo "server did not start"; cat "$work/server.out" "$work/server.log"; exit 1; }
jar="$work/jar"
curl -fsS -c "$jar" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$password\"}" \
  "http://$addr/api/auth/login" >/dev/null
key=$(curl -fsS -b "$jar" -H 'Content-Type: application/json' -d '{"name":"load","role":"admin"}' \
  "http://$addr/api/api-keys" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[[ -n "$key" ]] || { echo "could not create an API key"; exit 1; }

# The fleet: every 10th container stopped, every 25th running one unhealthy; stats every 2 s (the agent's
# default STATS_INTERVAL) for long enough to cover the browser's measurements.
"$load_bin" --server "$addr" --api-key "$key" --agents "$agents" --containers "$containers" \
  --interval-ms 2000 --seconds 150 --host-stats --stopped-every 10 --unhealthy-every 25 \
  >"$work/load.out" 2>"$work/load.err" &
load_pid=$!
for _ in $(seq 1 300); do
  grep -q "agents registered" "$work/load.err" 2>/dev/null && break
  kill -0 "$load_pid" 2>/dev/null || { cat "$work/load.err"; exit 1; }
  sleep 0.1
done
grep "agents registered" "$work/load.err"
sleep 3  # the first batches arrive

echo "server: $server_bin; $agents hosts x $containers containers"
# One host's container list through the server and its (simulated) agent, as the dashboard asks for it.
host_id=$(curl -fsS -b "$jar" "http://$addr/api/hosts" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
printf 'GET /api/hosts/{id}/containers, 5 times (s):'
for _ in 1 2 3 4 5; do printf ' %s' "$(curl -fsS -o /dev/null -w '%{time_total}' -b "$jar" "http://$addr/api/hosts/$host_id/containers")"; done
echo
# ALL_STATS=1 in the environment: the page takes every container sample too (the comparison).
node bench/ui_load.mjs "http://$addr" admin "$password" "$agents" "$server_pid"

#!/usr/bin/env bash
# Server ingest benchmark: simulated agents (bench/agent_load) stream container_stats_batch frames to a
# release dockmon-server; the server's own counter, CPU time and RSS say what it took in and at what cost.
# The generator runs on the same 2 cores as the server: it prints its own CPU seconds too.
# Usage: [INGEST_DATABASE_URL=postgresql://...] bench/ingest.sh [server-binary] [agent_load options...]
#   e.g. bench/ingest.sh build/release/apps/server/dockmon-server --agents 10 --containers 100 --seconds 20
set -euo pipefail
cd "$(dirname "$0")/.."
server_bin=${1:-build/release/apps/server/dockmon-server}
shift || true
load_bin=${AGENT_LOAD:-$(dirname "$server_bin")/../../bench/agent_load}
[[ -x "$server_bin" && -x "$load_bin" ]] || { echo "need $server_bin and $load_bin (cmake --build --preset release --target agent_load dockmon-server)"; exit 1; }

work=$(mktemp -d /tmp/dockmon-ingest-XXXXXX)
password=ingest-password
cleanup() {
  if [[ -n "${server_pid:-}" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the kernel picks a free one; the server prints the one it bound.
# INGEST_DATABASE_URL: the server's --database-url (default: SQLite under its data folder), e.g. a new
# PostgreSQL database, to compare the two stores in the same run of the same bench.
DOCKMON_ADMIN_PASSWORD=$password "$server_bin" --listen 127.0.0.1:0 --data-dir "$work/server" \
  ${INGEST_DATABASE_URL:+--database-url "$INGEST_DATABASE_URL"} \
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

# INGEST_SETUP: a command run before the load with the server's address and the key (bench/alert_rules.sh
# makes alert rules with it).
if [[ -n "${INGEST_SETUP:-}" ]]; then $INGEST_SETUP "$addr" "$key"; fi

"$load_bin" --server "$addr" --api-key "$key" --server-pid "$server_pid" "$@"

# What the server complained about during the run (warnings and errors only; disconnects are info).
problems=$(grep -Eic '\b(warn|warning|error|critical)\b' "$work/server.log" || true)
echo "server log: $(wc -l <"$work/server.log") lines, $problems warnings/errors"
grep -Ei '\b(warn|warning|error|critical)\b' "$work/server.log" | head -5 || true

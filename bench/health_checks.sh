#!/usr/bin/env bash
# The agent's cost of health checks (issue: health checks and auto-restart): its CPU and RSS with 200
# HTTP checks every 10 s, beside its own figures with no checks in the same run, on the same 200 running
# containers (so the stats it samples anyway are in both). The checks probe a small HTTP server on
# loopback; each is set through the REST API as a user would.
# Usage: bench/health_checks.sh [build-dir] [checks] [seconds]   (default build/release 200 60; needs scripts/test-env start)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
checks=${2:-200}
window=${3:-60}
source bench/lib.sh
port=18768
probe_port=18769
start_server "$build" $port
token=$(registration_token)

/usr/bin/python3 - "$probe_port" <<'PY' &
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
PY

echo "starting $checks containers..."
for i in $(seq 1 "$checks"); do
  docker_cli run -d --network none --label dockmon-bench=1 --name "bench-hc-$i" dockmon-test/busybox:latest sleep 100000 >/dev/null
done
DOCKMON_URL=$server_url REGISTRATION_TOKEN=$token DOCKER_HOST=$DOCKMON_TEST_DOCKER_HOST \
  DATA_PATH="$work/agent" LOG_LEVEL=warn "$build/apps/agent/dockmon-agent" >"$work/agent.log" 2>&1 &
agent_pid=$!
host_id=$(wait_online) || true
[[ -n "$host_id" ]] || { echo "agent did not come online"; cat "$work/agent.log"; exit 1; }

# measure LABEL: the agent's CPU over the window and its RSS at the end.
measure() {
  local t0 t1
  t0=$(cpu_ticks "$agent_pid")
  sleep "$window"
  t1=$(cpu_ticks "$agent_pid")
  local cpu rss
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$clk_tck" -v w="$window" 'BEGIN {printf "%.2f", 100 * d / hz / w}')
  rss=$(rss_kib "$agent_pid")
  echo "$1 $cpu $rss"
}

sleep 10  # the agent settles: first list, first stats
idle=$(measure idle)

echo "setting $checks checks every 10 s..."
for i in $(seq 1 "$checks"); do
  curl -fsS -b "$work/jar" -X PUT -H 'Content-Type: application/json' -H "Origin: $server_url" -o /dev/null \
    -d "{\"url\":\"http://127.0.0.1:$probe_port/health\",\"interval_s\":10,\"timeout_s\":2}" \
    "$server_url/api/hosts/$host_id/containers/bench-hc-$i/health-check"
done
sleep 20  # every check has made its first probes (they are spread over the first 10 s)
healthy=$(curl -fsS -b "$work/jar" "$server_url/api/hosts/$host_id/health-checks" | grep -o '"state":"healthy"' | wc -l)
busy=$(measure checks)

read -r _ idle_cpu idle_rss <<<"$idle"
read -r _ busy_cpu busy_rss <<<"$busy"
echo "agent, $checks running containers, ${window}s windows:"
printf '  no checks:              CPU %6s %%  RSS %6.1f MiB\n' "$idle_cpu" "$(awk -v k="$idle_rss" 'BEGIN {print k/1024}')"
printf '  %d checks every 10 s:  CPU %6s %%  RSS %6.1f MiB  (%d of them healthy)\n' "$checks" "$busy_cpu" \
  "$(awk -v k="$busy_rss" 'BEGIN {print k/1024}')" "$healthy"
awk -v a="$busy_cpu" -v b="$idle_cpu" -v r1="$busy_rss" -v r0="$idle_rss" -v n="$checks" \
  'BEGIN {printf "  the checks cost: +%.2f %% CPU (%.3f %% per check), +%.1f MiB RSS (%.1f KiB per check)\n", a-b, (a-b)/n, (r1-r0)/1024, (r1-r0)/n}'

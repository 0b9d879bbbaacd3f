#!/usr/bin/env bash
# Alert latency (issue: alerts and notifications): from `docker kill` of a watched container to a webhook
# on loopback receiving the message (median of 50), beside the time Docker's own event stream takes to
# say the container died (a `docker events` reader started before the kills): the part of the path this
# project adds is the difference.
# Usage: bench/alert_latency.sh [build-dir]   (default build/release; needs scripts/test-env start)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
source bench/lib.sh
# Each kill is followed by a start, whose all-clear a burst window would hold for 10 s; a single alert
# goes at once either way, so without the window the 50 rounds take a minute instead of ten.
export DOCKMON_NOTIFY_BURST_WINDOW=0
port=18766
hook_port=18767
start_server "$build" $port
jar="$work/jar"
token=$(registration_token)
DOCKMON_URL=http://127.0.0.1:$port REGISTRATION_TOKEN=$token DOCKER_HOST=$DOCKMON_TEST_DOCKER_HOST \
  DATA_PATH="$work/agent" LOG_LEVEL=warn "$build/apps/agent/dockmon-agent" >"$work/agent.log" 2>&1 &
host_id=$(wait_online) || true
[[ -n "$host_id" ]] || { echo "agent did not come online"; cat "$work/agent.log"; exit 1; }

# The webhook: one line per message, "<arrival time> <event>".
/usr/bin/python3 - "$hook_port" "$work/hook.log" <<'PY' &
import http.server, json, sys, time
out = open(sys.argv[2], "a", buffering=1)
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        out.write("%.6f %s\n" % (time.time(), body["event"]))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
PY
# Docker's own account: arrival time of each die event on its event stream.
/usr/bin/python3 - "$DOCKMON_TEST_DOCKER_HOST" "$work/docker.log" <<'PY' &
import subprocess, sys, time
out = open(sys.argv[2], "a", buffering=1)
p = subprocess.Popen(["docker", "-H", sys.argv[1], "events", "--filter", "event=die", "--filter", "container=bench-alert",
                      "--format", "{{.Action}}"], stdout=subprocess.PIPE, text=True)
for line in p.stdout:
    out.write("%.6f %s\n" % (time.time(), line.strip()))
PY
sleep 1

channel=$(curl -fsS -b "$jar" -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$port" \
  -d "{\"name\":\"bench\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:$hook_port/hook\"}}" \
  "http://127.0.0.1:$port/api/notification-channels" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
curl -fsS -b "$jar" -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$port" -o /dev/null \
  -d "{\"name\":\"bench\",\"kind\":\"container_stopped\",\"cooldown_seconds\":0,\"scope\":{\"name\":\"bench-alert\"},\"channel_ids\":[\"$channel\"]}" \
  "http://127.0.0.1:$port/api/alert-rules"
docker_cli run -d --network none --label dockmon-bench=1 --name bench-alert dockmon-test/busybox:latest sleep 100000 >/dev/null

count() { grep -c " $1\$" "$2" 2>/dev/null || true; }
wait_count() {  # wait_count EVENT FILE N
  for _ in $(seq 1 200); do [[ $(count "$1" "$2") -ge $3 ]] && return 0; sleep 0.05; done
  echo "timed out waiting for $3 '$1' lines in $2"; cat "$work/server.log" | tail -20; exit 1
}
sleep 2  # the agent's event stream sees the start
runs=50
via=()
docker_seen=()
for i in $(seq 1 "$runs"); do
  t0=$(date +%s.%N)
  docker_cli kill bench-alert >/dev/null
  wait_count fired "$work/hook.log" "$i"
  wait_count die "$work/docker.log" "$i"
  t_hook=$(grep ' fired$' "$work/hook.log" | sed -n "${i}p" | cut -d' ' -f1)
  t_docker=$(grep ' die$' "$work/docker.log" | sed -n "${i}p" | cut -d' ' -f1)
  via+=("$(awk -v a="$t_hook" -v b="$t0" 'BEGIN {print a-b}')")
  docker_seen+=("$(awk -v a="$t_docker" -v b="$t0" 'BEGIN {print a-b}')")
  docker_cli start bench-alert >/dev/null
  wait_count resolved "$work/hook.log" "$i"
done
via_ms=$(median_ms "${via[@]}")
docker_ms=$(median_ms "${docker_seen[@]}")
echo "docker kill -> webhook received, median of $runs: $via_ms ms (Docker's own event stream: $docker_ms ms," \
  "$(awk -v a="$via_ms" -v b="$docker_ms" 'BEGIN {printf "+%.1f ms", a-b}') for agent, server, alert and delivery)"

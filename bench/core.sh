#!/usr/bin/env bash
# Core benchmark (issue: agent and server speaking DockMon's protocol).
#  1. dockmon-agent's resident memory at idle while its engine runs 20 containers;
#  2. round trip of `restart` (and of `inspect`, where the path itself shows) through the REST API -> server -> agent -> dockerd and back (median of 50),
#     interleaved with the same restart sent straight to the Docker API, so both see the same machine.
# Usage: bench/core.sh [build-dir]   (default build/release; needs scripts/test-env start)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
source bench/lib.sh
port=18765
start_server "$build" $port
jar="$work/jar"
token=$(registration_token)

for i in $(seq 1 20); do
  docker_cli run -d --network none --label dockmon-bench=1 --name "bench-idle-$i" dockmon-test/busybox:latest sleep 100000 >/dev/null
done
DOCKMON_URL=http://127.0.0.1:$port REGISTRATION_TOKEN=$token DOCKER_HOST=$DOCKMON_TEST_DOCKER_HOST \
  DATA_PATH="$work/agent" LOG_LEVEL=warn "$build/apps/agent/dockmon-agent" >"$work/agent.log" 2>&1 &
agent_pid=$!
host_id=$(wait_online) || true
[[ -n "$host_id" ]] || { echo "agent did not come online"; cat "$work/agent.log"; exit 1; }

# Touch every code path once (list, inspect, logs), then let it idle.
curl -fsS -b "$jar" "http://127.0.0.1:$port/api/hosts/$host_id/containers" >/dev/null
curl -fsS -b "$jar" "http://127.0.0.1:$port/api/hosts/$host_id/containers/bench-idle-1" >/dev/null
curl -fsS -b "$jar" "http://127.0.0.1:$port/api/hosts/$host_id/containers/bench-idle-1/logs" >/dev/null
sleep 5
agent_rss=$(rss_kib "$agent_pid")
server_rss=$(rss_kib "$server_pid")
dockerd_rss=$(rss_kib "$(cat /tmp/dockmon-test-env/dockerd.pid)")

docker_cli run -d --network none --label dockmon-bench=1 --name bench-restart dockmon-test/busybox:latest \
  sh -c 'trap "exit 0" TERM; sleep 100000 & wait' >/dev/null
via=()
direct=()
for _ in $(seq 1 50); do
  via+=("$(curl -fsS -o /dev/null -w '%{time_total}' -b "$jar" -X POST \
    "http://127.0.0.1:$port/api/hosts/$host_id/containers/bench-restart/restart?timeout=5")")
  direct+=("$(curl -fsS -o /dev/null -w '%{time_total}' --unix-socket "$sock" -X POST \
    "http://docker/v1.41/containers/bench-restart/restart?t=5")")
done
inspect_via=()
inspect_direct=()
for _ in $(seq 1 200); do
  inspect_via+=("$(curl -fsS -o /dev/null -w '%{time_total}' -b "$jar" \
    "http://127.0.0.1:$port/api/hosts/$host_id/containers/bench-restart")")
  inspect_direct+=("$(curl -fsS -o /dev/null -w '%{time_total}' --unix-socket "$sock" \
    "http://docker/v1.41/containers/bench-restart/json")")
done
via_ms=$(median_ms "${via[@]}")
direct_ms=$(median_ms "${direct[@]}")

inspect_via_ms=$(median_ms "${inspect_via[@]}")
inspect_direct_ms=$(median_ms "${inspect_direct[@]}")
echo "agent RSS at idle, 20 containers: $((agent_rss)) KiB (server $((server_rss)) KiB, dockerd $((dockerd_rss)) KiB)"
echo "restart round trip, median of 50: via DockMon $via_ms ms, straight to Docker $direct_ms ms," \
  "overhead $(awk -v a="$via_ms" -v b="$direct_ms" 'BEGIN {printf "%.1f ms (x%.2f)", a-b, a/b}')"
echo "inspect round trip, median of 200: via DockMon $inspect_via_ms ms, straight to Docker $inspect_direct_ms ms," \
  "overhead $(awk -v a="$inspect_via_ms" -v b="$inspect_direct_ms" 'BEGIN {printf "%.1f ms (x%.2f)", a-b, a/b}')"

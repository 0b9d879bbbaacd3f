#!/usr/bin/env bash
# Where the engine's idle CPU goes with and without the agent: dockerd, containerd, the shims and the
# agent apart, in alternating windows, for 100 idle containers (docs/BENCHMARKS.md, stats overhead).
# Usage: bench/engine_breakdown.sh [build-dir] (default build/release); N=100 WINDOW=30
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
n=${N:-100}
window=${WINDOW:-30}
source bench/lib.sh
start_server "$build" 18767

for i in $(seq 1 "$n"); do
  docker_cli run -d --network none --label dockmon-bench=1 dockmon-test/busybox:latest sleep 100000 >/dev/null
done
sleep 5
dockerd=$(cat /tmp/dockmon-test-env/dockerd.pid)
containerd=$(pgrep -P "$dockerd" containerd)

breakdown() {
  local shims before_d before_c before_s before_a
  shims=$(pgrep -f containerd-shim-runc | tr '\n' ' ')
  before_d=$(cpu_ticks "$dockerd") before_c=$(cpu_ticks "$containerd") before_s=$(cpu_ticks $shims) before_a=$(cpu_ticks "$@")
  sleep "$window"
  printf '%-10s dockerd %3d  containerd %3d  shims %4d  agent %3d\n' "$label" $(($(cpu_ticks "$dockerd") - before_d)) \
    $(($(cpu_ticks "$containerd") - before_c)) $(($(cpu_ticks $shims) - before_s)) $(($(cpu_ticks "$@") - before_a))
}

echo "clock ticks per ${window} s window, $n idle containers ($clk_tck ticks = 1 s of one core)"
token=$(registration_token)
for round in 1 2; do
  label="no agent" breakdown
  DOCKMON_URL=$server_url REGISTRATION_TOKEN=$token DOCKER_HOST=$DOCKMON_TEST_DOCKER_HOST DATA_PATH="$work/agent" \
    STATS_INTERVAL=1s LOG_LEVEL=warn "$build/apps/agent/dockmon-agent" >>"$work/agent.log" 2>&1 &
  agent_pid=$!
  wait_online >/dev/null
  sleep 5
  label="agent" breakdown "$agent_pid"
  kill "$agent_pid"
  wait "$agent_pid" 2>/dev/null || true
  sleep 2
done
label="no agent" breakdown

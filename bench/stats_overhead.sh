#!/usr/bin/env bash
# What collecting container stats costs the host, DockMon's way beside ours, in one run.
# For each N idle containers, windows of the same length:
#   baseline   no collector: CPU of dockerd + containerd + the shims
#   dockmon    this agent sampling the cgroup files every second, sending to a server   } ROUNDS times
#   baseline                                                                           }
#   streaming  DockMon's way: one Docker stats stream per container (curl readers; a Go agent decoding
#              the JSON would cost more than curl, so this side is a lower bound)
#   baseline
# (ours first: dockerd keeps the memory the streams made it take, which would be charged to us after)
# Overhead = (mean window CPU - mean of all baselines) / window, in percent of one core; collectors'
# own CPU included. The idle shims alone wander by a few ticks a window: baselines on every side and
# several windows of ours average that out.
# dockerd's RSS is read at the end of every window: a collector must not make it grow.
# Usage: bench/stats_overhead.sh [build-dir] (default build/release); SIZES="10 50 100" WINDOW=60 ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
sizes=${SIZES:-"10 50 100"}
window=${WINDOW:-60}
rounds=${ROUNDS:-2}
source bench/lib.sh
start_server "$build" 18766

engine_pids() {
  local dockerd
  dockerd=$(cat /tmp/dockmon-test-env/dockerd.pid)
  echo "$dockerd" $(pgrep -P "$dockerd" containerd || true) $(pgrep -f containerd-shim-runc || true)
}

# window_cpu PID...: ticks the engine processes and the given extra processes use over one window;
# sets dockerd_kib to dockerd's RSS at its end.
window_cpu() {
  local pids before after
  pids="$(engine_pids) $*"
  before=$(cpu_ticks $pids)
  sleep "$window"
  after=$(cpu_ticks $pids)
  dockerd_kib=$(rss_kib "$(cat /tmp/dockmon-test-env/dockerd.pid)")
  window_ticks=$((after - before))
}

ingested() {
  curl -fsS -b "$work/jar" "$server_url/metrics" | awk '/^dockmon_stats_samples_ingested_total/ {print $2}'
}

pct() { awk -v t="$1" -v w="$window" -v hz="$clk_tck" 'BEGIN {printf "%.2f", t / hz / w * 100}'; }

mean_of() { printf '%s\n' "$@" | awk '{s += $1} END {print s / NR}'; }
min_of() { printf '%s\n' "$@" | sort -g | head -n 1; }
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

printf '%-5s %-10s %-12s %-14s %-12s %-12s %s\n' N mode "CPU % core" "overhead %" "samples/s/c" "dockerd MiB" "notes"
baseline_row() {
  window_cpu
  printf '%-5s %-10s %-12s %-14s %-12s %-12s\n' "$n" baseline "$(pct "$window_ticks")" "-" "-" "$(mib "$dockerd_kib")"
}

for n in $sizes; do
  ids=()
  for i in $(seq 1 "$n"); do
    ids+=("$(docker_cli run -d --network none --label dockmon-bench=1 dockmon-test/busybox:latest sleep 100000)")
  done
  sleep 5

  baselines=()
  baseline_row
  baselines+=("$window_ticks")

  # Ours in $rounds windows, each between two baselines: the shims' idle CPU wanders by several ticks a
  # window whatever runs, so one window pair is not enough to see a cost this small.
  ours_windows=()
  agent_windows=()
  rm -rf "$work/agent"
  token=$(registration_token)
  samples_total=0
  for round in $(seq 1 "$rounds"); do
    DOCKMON_URL=$server_url REGISTRATION_TOKEN=$token DOCKER_HOST=$DOCKMON_TEST_DOCKER_HOST \
      DATA_PATH="$work/agent" STATS_INTERVAL=1s LOG_LEVEL=warn "$build/apps/agent/dockmon-agent" >>"$work/agent.log" 2>&1 &
    agent_pid=$!
    wait_online >/dev/null
    sleep 3
    samples_before=$(ingested)
    agent_before=$(cpu_ticks "$agent_pid")
    window_cpu "$agent_pid"
    ours_windows+=("$window_ticks")
    ours_dockerd_kib=$dockerd_kib
    agent_windows+=($(($(cpu_ticks "$agent_pid") - agent_before)))
    samples_total=$((samples_total + $(ingested) - samples_before))
    agent_rss=$(rss_kib "$agent_pid")
    kill "$agent_pid"
    wait "$agent_pid" 2>/dev/null || true
    sleep 3
    baseline_row
    baselines+=("$window_ticks")
  done

  readers=()
  for id in "${ids[@]}"; do
    curl -sN --unix-socket "$sock" "http://docker/v1.41/containers/$id/stats?stream=1" >"$work/stream-$id" &
    readers+=($!)
  done
  sleep 3  # the streams' first sample takes a second or two
  lines_before=$(cat "$work"/stream-* | wc -l)
  window_cpu "${readers[@]}"
  streaming=$window_ticks
  streaming_dockerd_kib=$dockerd_kib
  lines_after=$(cat "$work"/stream-* | wc -l)
  kill "${readers[@]}" 2>/dev/null || true
  wait "${readers[@]}" 2>/dev/null || true
  rm -f "$work"/stream-*
  sleep 3
  baseline_row
  baselines+=("$window_ticks")

  base=$(mean_of "${baselines[@]}")
  ours=$(mean_of "${ours_windows[@]}")
  agent_ticks=$(mean_of "${agent_windows[@]}")
  stream_over=$(awk -v s="$streaming" -v b="$base" 'BEGIN {print s - b}')
  ours_over=$(awk -v s="$ours" -v b="$base" 'BEGIN {print s - b}')
  stream_rate=$(awk -v l=$((lines_after - lines_before)) -v n="$n" -v w="$window" 'BEGIN {printf "%.2f", l / n / w}')
  printf '%-5s %-10s %-12s %-14s %-12s %-12s %s\n' "$n" streaming "$(pct "$streaming")" "$(pct "$stream_over")" \
    "$stream_rate" "$(mib "$streaming_dockerd_kib")" "baseline mean $(pct "$base")% of ${#baselines[@]} windows ($(pct "$(min_of "${baselines[@]}")")-$(pct "$(max_of "${baselines[@]}")"))"
  # One host sample per tick is in the count too.
  our_rate=$(awk -v s="$samples_total" -v n="$n" -v w="$window" -v r="$rounds" 'BEGIN {printf "%.2f", (s - w * r) / n / w / r}')
  ratio=$(awk -v a="$stream_over" -v b="$ours_over" 'BEGIN {if (b <= 0) print "inf"; else printf "%.0f", a / b}')
  printf '%-5s %-10s %-12s %-14s %-12s %-12s %s\n' "$n" dockmon "$(pct "$ours")" "$(pct "$ours_over")" "$our_rate" \
    "$(mib "$ours_dockerd_kib")" "mean of $rounds windows; agent alone $(pct "$agent_ticks")%, RSS $((agent_rss / 1024)) MiB; overhead ratio x$ratio"

  docker_cli rm -f "${ids[@]}" >/dev/null
done

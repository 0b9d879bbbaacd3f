#!/usr/bin/env bash
# What alert rules cost the server per stats sample: the same ingest run (bench/ingest.sh: 20 simulated
# agents x 100 containers = 2,000 containers, flat out) with no rules, with 100 CPU and memory rules that
# each take one agent's containers (5 rules match each sample), and with 100 rules that all match every
# sample. Rounds alternate so that a noisy neighbour hits every configuration alike. Rules are set to
# thresholds no sample reaches: what is measured is weighing the samples, not storing alerts.
# Usage: bench/alert_rules.sh [server-binary] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
server_bin=${1:-build/release/apps/server/dockmon-server}
rounds=${2:-2}
agents=20
containers=100

if [[ "${1:-}" == "--make-rules" ]]; then
  # Called by ingest.sh (INGEST_SETUP) as: alert_rules.sh --make-rules MODE ADDR KEY
  mode=$2 addr=$3 key=$4
  [[ "$mode" == none ]] && exit 0
  for i in $(seq 0 99); do
    kind=$([[ $((i % 2)) == 0 ]] && echo cpu_high || echo memory_high)
    scope=$([[ "$mode" == scoped ]] && echo "{\"name\":\"load-$((i % agents))-*\"}" || echo "{}")
    curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
      -d "{\"name\":\"r$i\",\"kind\":\"$kind\",\"threshold_percent\":9999,\"fire_after_seconds\":0,\"scope\":$scope}" \
      "http://$addr/api/alert-rules" >/dev/null
  done
  exit 0
fi

declare -A per_sample
for round in $(seq 1 "$rounds"); do
  for mode in none scoped all; do
    out=$(INGEST_SETUP="bench/alert_rules.sh --make-rules $mode" bench/ingest.sh "$server_bin" \
      --agents "$agents" --containers "$containers" --seconds 15)
    rate=$(sed -n 's/^samples per server CPU-second: \([0-9]*\)/\1/p' <<<"$out")
    lost=$(sed -n 's/^agents that lost their connection: \([0-9]*\).*/\1/p' <<<"$out")
    [[ -n "$rate" && "$rate" -gt 0 && "$lost" == 0 ]] || { echo "round $round, $mode: no usable result"; echo "$out"; exit 1; }
    us=$(awk -v r="$rate" 'BEGIN {printf "%.3f", 1e6 / r}')
    per_sample[$mode]="${per_sample[$mode]:-} $us"
    echo "round $round, $mode rules: $rate samples per server CPU-second, $us µs per sample"
  done
done

median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
none=$(median "${per_sample[none]}")
scoped=$(median "${per_sample[scoped]}")
all=$(median "${per_sample[all]}")
echo "median server CPU per sample: no rules $none µs; 100 rules, 5 matching each sample $scoped µs ($(awk -v a="$scoped" -v b="$none" 'BEGIN {printf "%.2f", a / b}') x); 100 rules all matching $all µs ($(awk -v a="$all" -v b="$none" 'BEGIN {printf "%.2f", a / b}') x)"

# Shared by the benchmark scripts: the test engine, a release dockmon-server signed in as admin, and
# CPU and memory readings from /proc. Source it; it sets `work` and cleans up on exit.
set -euo pipefail
eval "$(scripts/test-env start)"
sock=${DOCKMON_TEST_DOCKER_HOST#unix://}
docker_cli() { docker -H "$DOCKMON_TEST_DOCKER_HOST" "$@"; }

work=$(mktemp -d /tmp/dockmon-bench-XXXXXX)
server_pid=""
bench_cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  docker_cli rm -f $(docker_cli ps -aq --filter label=dockmon-bench=1) >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

# start_server BUILD PORT: dockmon-server in the background, signed in (cookie jar $work/jar).
start_server() {
  DOCKMON_ADMIN_PASSWORD=bench-password "$1/apps/server/dockmon-server" --listen "127.0.0.1:$2" \
    --data-dir "$work/server" >"$work/server.log" 2>&1 &
  server_pid=$!
  server_url="http://127.0.0.1:$2"
  for _ in $(seq 1 100); do curl -fsS "$server_url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS -c "$work/jar" -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"bench-password"}' "$server_url/api/auth/login" >/dev/null
}

registration_token() {
  curl -fsS -b "$work/jar" -X POST "$server_url/api/agent/generate-token" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}

# wait_online: prints the id of the first online host.
wait_online() {
  local id=""
  for _ in $(seq 1 200); do
    id=$(curl -fsS -b "$work/jar" "$server_url/api/hosts" | grep -o '"id":"[^"]*","name"[^]]*"status":"online"' |
      head -n 1 | sed -n 's/"id":"\([^"]*\)".*/\1/p' || true)
    [[ -n "$id" ]] && { echo "$id"; return 0; }
    sleep 0.1
  done
  return 1
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# cpu_ticks PID...: user+system clock ticks used so far by these processes together.
cpu_ticks() {
  local total=0 pid t
  for pid in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}
clk_tck=$(getconf CLK_TCK)

median_ms() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m*1000}'; }

#!/usr/bin/env bash
# Load test of the city server's inbox on loopback: wrk posts new phone reports to /v1/feedback for
# BENCH_SECONDS (60) with BENCH_CONNECTIONS (32) connections, first on the embedded SQLite, then on a throw-away
# PostgreSQL (started by scripts/test-postgres.sh). Meanwhile a probe asks /healthz every 100 ms. Afterwards the rows
# stored are counted: every 2xx answer must be one stored report (no accepted report lost).
#
#   scripts/bench-server.sh                 both back ends; prints a Markdown table for docs/performance.md
#   BENCH_SECONDS=10 scripts/bench-server.sh
#
# Installs Debian's wrk when missing. Only 127.0.0.1 is ever contacted; every loop is bounded in time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${BENCH_SECONDS:-60}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing Debian's wrk (apt-get)" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >&2
fi

target=${CARGO_TARGET_DIR:-target}
if [ "${1:-}" != "--inner" ]; then
  cargo build --release --locked -q -p cityguide-cli
fi
bin="$target/release/cityguide"

work=$(mktemp -d /tmp/cityguide-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cat >"$work/report.lua" <<'LUA'
-- Every request is a new report with its own key and installation, so neither idempotency nor the per-installation
-- limit turns it away; the server does the whole work of storing one.
local counter = 0
local id = 0
ok = 0
other = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
end
function request()
  counter = counter + 1
  local key = string.format("%08x%08x%016x", id, counter, 0)
  local inst = string.rep("b", 48) .. string.format("%08x%08x", id, counter)
  local body = '{"v":1,"key":"' .. key .. '","installation":"' .. inst .. '","city_id":"mini",' ..
    '"office":"Municipal Maintenance","category":"damage","place_id":"cathedral",' ..
    '"text":"Load test report","created_at":1,"location":{"lat":43.2047,"lon":27.9105}}'
  return wrk.format("POST", "/v1/feedback", {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local total_ok, total_other = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + (t:get("ok") or 0)
    total_other = total_other + (t:get("other") or 0)
  end
  io.write(string.format("RESULT ok=%d other=%d errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    total_ok, total_other, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA
# wrk keeps each thread's globals in its own Lua state; `done` reads `ok` and `other` back with thread:get.

cat >"$work/probe.py" <<'PY'
import sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
end = time.time() + seconds
n = fails = 0
worst = 0.0
while time.time() < end:
    t = time.time()
    try:
        ok = urllib.request.urlopen(url, timeout=2).status == 200
    except Exception:
        ok = False
    worst = max(worst, time.time() - t)
    n += 1
    fails += 0 if ok else 1
    time.sleep(0.1)
print(f"PROBE checks={n} failures={fails} worst_ms={worst * 1000:.1f}")
PY

run() { # $1: name, $2: database URL; prints one Markdown row
  local name=$1 db=$2 dir="$work/$1"
  mkdir -p "$dir"
  cat >"$dir/city.toml" <<EOF
[server]
listen = "127.0.0.1:0"
max_concurrent_requests = 256

[database]
url = "$db"
max_connections = 8

[city]
reference_prefix = "BENCH"

[limits]
reports_per_hour = 1000000
client_reports_per_hour = 1000000
EOF
  RUST_LOG=warn "$bin" server --config "$dir/city.toml" >"$dir/server.out" 2>"$dir/server.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q '^listening on' "$dir/server.out" && break; sleep 0.1; done
  local url
  url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$dir/server.out")
  [ -n "$url" ] || { cat "$dir/server.err" >&2; kill "$pid"; exit 1; }
  python3 "$work/probe.py" "${url}healthz" "$seconds" >"$dir/probe.out" &
  local probe=$!
  wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 10s -s "$work/report.lua" "$url" >"$dir/wrk.out" 2>&1
  wait "$probe"
  kill -TERM "$pid"; wait "$pid" || true
  # Count the rows in the database itself, after the server stopped.
  local stored
  if [ "$name" = sqlite ]; then
    stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from reports').fetchone()[0])" "${db#sqlite:}")
  else
    stored=$(psql "$db" -Atc 'select count(*) from reports')
  fi
  local res probe_line ok other errors p50 p99 max
  res=$(grep '^RESULT' "$dir/wrk.out" || { cat "$dir/wrk.out" >&2; exit 1; })
  probe_line=$(cat "$dir/probe.out")
  ok=$(sed -E 's/.*ok=([0-9]+).*/\1/' <<<"$res"); other=$(sed -E 's/.*other=([0-9]+).*/\1/' <<<"$res")
  errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$res")
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$res"); p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$res")
  max=$(sed -E 's/.*max_ms=([0-9.]+).*/\1/' <<<"$res")
  local rps
  rps=$(python3 -c "print(round($ok / $seconds))")
  # wrk stops counting at the deadline: requests still in flight then were stored but not counted, so rows may
  # exceed the 2xx count; fewer rows than 2xx answers would be accepted reports lost.
  local lost=$(( ok > stored ? ok - stored : 0 ))
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "$max" "$ok" "$((other + errors))" \
    "$stored" "$lost" "${probe_line#PROBE }"
  [ "$lost" -eq 0 ] || { echo "accepted reports lost on $name: $ok accepted, $stored stored" >&2; exit 1; }
  grep -q 'failures=0' "$dir/probe.out" || { echo "health checks failed on $name: $probe_line" >&2; exit 1; }
}

if [ "${1:-}" = "--inner" ]; then
  admin=${CITYGUIDE_TEST_POSTGRES_URL:?run through scripts/test-postgres.sh}
  psql "$admin" -qc 'CREATE DATABASE bench' >/dev/null
  run postgres "${admin%/*}/bench"
  exit 0
fi

echo "wrk -t$threads -c$connections -d${seconds}s, POST /v1/feedback (a new report per request), $(nproc) cores"
echo
echo '| back end | reports/s | p50 ms | p99 ms | max ms | 2xx | other | rows stored | lost | /healthz every 100 ms |'
echo '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'
run sqlite "sqlite:$work/inbox.db"
scripts/test-postgres.sh "$0" --inner

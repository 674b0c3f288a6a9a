#!/usr/bin/env bash
# The main job: build the Varna pack from its sources, install it on a fresh simulated phone (local files, SQLite)
# and walk a visitor through the city; then export the pack as open data. Everything goes to a temporary
# directory (or $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-$(mktemp -d)}
mkdir -p "$out"
cargo build --release --locked -q -p cityguide-cli
bin=${CARGO_TARGET_DIR:-target}/release/cityguide
"$bin" demo --source data/varna --data-dir "$out/phone"
"$bin" pack build data/varna -o "$out/varna.pack" >/dev/null 2>&1
"$bin" pack export "$out/varna.pack" --geojson -o "$out/varna.geojson"
echo "open data written to $out/varna.geojson"

# The city's server as a city runs it: `cityguide server --config city.toml`, on the embedded SQLite default and
# loopback; asked whether it is ready, then stopped with SIGTERM (a graceful stop).
cat > "$out/city.toml" <<EOF
[server]
listen = "127.0.0.1:0"
site = "site"

[database]
url = "sqlite:inbox.db"

[city]
reference_prefix = "VAR"
jurisdiction_id = "varna.bg"
packs = ["varna.pack"]
EOF
mkdir -p "$out/site"
"$bin" server --config "$out/city.toml" >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$out/server.log" && break; sleep 0.1; done
url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$out/server.log")
[ -n "$url" ] || { cat "$out/server.log" >&2; kill "$pid" 2>/dev/null; exit 1; }
python3 -c "import sys, urllib.request; print('city server at', sys.argv[1], '-', urllib.request.urlopen(sys.argv[1] + 'readyz').read().decode().strip())" "$url"
kill -TERM "$pid"
wait "$pid"
echo "city server stopped; its inbox is $out/inbox.db (see docs/feedback.md to run it for a city)"

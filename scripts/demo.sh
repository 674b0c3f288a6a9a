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
bin=target/release/cityguide
"$bin" demo --source data/varna --data-dir "$out/phone"
"$bin" pack build data/varna -o "$out/varna.pack" >/dev/null 2>&1
"$bin" pack export "$out/varna.pack" --geojson -o "$out/varna.geojson"
echo "open data written to $out/varna.geojson"

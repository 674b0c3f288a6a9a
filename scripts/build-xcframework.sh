#!/usr/bin/env bash
# Builds ios/CityguideCore.xcframework: the Rust core as static libraries for iOS devices, the iOS simulator (Apple
# silicon and Intel) and macOS (for `swift test` on a Mac), with the UniFFI C header and module map, so the Swift
# package in ios/ (and through it an Xcode app) links the core with no Rust toolchain on the app side.
#
#   scripts/build-xcframework.sh            # the `phone` profile (release with fat LTO: what an app ships)
#   PROFILE=debug scripts/build-xcframework.sh
#
# Runs on macOS only, with Xcode (xcodebuild, lipo) and rustup. It installs the Rust targets it needs.
# The Swift bindings themselves come from scripts/bindgen.sh, which this script runs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ "$(uname -s)" != Darwin ]]; then
    echo "build-xcframework: needs macOS with Xcode (xcodebuild); on Linux the Swift tests link libcityguide_ffi.so instead" >&2
    exit 1
fi
for tool in xcodebuild lipo rustup cargo; do
    command -v "$tool" >/dev/null || { echo "build-xcframework: '$tool' is missing" >&2; exit 1; }
done

PROFILE=${PROFILE:-phone}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# The oldest systems the package supports (see ios/Package.swift).
export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-15.0}
export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-12.0}

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
macs=(aarch64-apple-darwin x86_64-apple-darwin)

rustup target add "$device" "${simulators[@]}" "${macs[@]}"

profile_flag=()
[[ "$PROFILE" != debug ]] && profile_flag=(--profile "$PROFILE")
for target in "$device" "${simulators[@]}" "${macs[@]}"; do
    echo "==> cargo build $target"
    cargo build --locked -p cityguide-ffi --lib --target "$target" ${profile_flag[@]+"${profile_flag[@]}"}
done

lib() { echo "$CARGO_TARGET_DIR/$1/$PROFILE/libcityguide_ffi.a"; }

# One library per platform: the simulator and macOS slices are fat (arm64 + x86_64).
work="$CARGO_TARGET_DIR/xcframework"
rm -rf "$work"
mkdir -p "$work/ios-simulator" "$work/macos" "$work/headers"
lipo -create "$(lib "${simulators[0]}")" "$(lib "${simulators[1]}")" -output "$work/ios-simulator/libcityguide_ffi.a"
lipo -create "$(lib "${macs[0]}")" "$(lib "${macs[1]}")" -output "$work/macos/libcityguide_ffi.a"

# Header and module map from the generated bindings (module name cityguide_ffiFFI, as the Swift file imports).
echo "==> bindings"
scripts/bindgen.sh
ffi_dir="ios/Sources/cityguide_ffiFFI"
cp "$ffi_dir"/*.h "$work/headers/"
cp "$ffi_dir/module.modulemap" "$work/headers/module.modulemap"

out="ios/CityguideCore.xcframework"
rm -rf "$out"
xcodebuild -create-xcframework \
    -library "$(lib "$device")" -headers "$work/headers" \
    -library "$work/ios-simulator/libcityguide_ffi.a" -headers "$work/headers" \
    -library "$work/macos/libcityguide_ffi.a" -headers "$work/headers" \
    -output "$out"
echo "wrote $out"

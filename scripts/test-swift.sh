#!/usr/bin/env bash
# Runs the Swift package's tests (ios/) end to end against the real native library and the `cityguide` tool:
# prepares a Swift toolchain (native, or Debian trixie's in a cached chroot on Linux), builds libcityguide_ffi and
# the CLI, generates the Swift bindings from the built library, then `swift test`. Exits non-zero if any step or
# test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR=$(cd "$CARGO_TARGET_DIR" && pwd)

step() { printf '\n==> %s\n' "$*"; }

step "Swift toolchain (cached after the first run)"
mode=$(scripts/swift-toolchain.sh)
echo "$mode"

step "native library and Swift bindings generated from it (scripts/bindgen.sh)"
scripts/bindgen.sh

step "cityguide tool (publishes and serves the test sites)"
cargo build --locked -p cityguide-cli

if [[ "$(uname -s)" == Darwin ]]; then
    # On a Mac the package links the XCFramework (which includes a macOS slice for `swift test`).
    step "XCFramework"
    scripts/build-xcframework.sh
fi

step "swift test"
export CITYGUIDE_FFI_LIB_DIR="$CARGO_TARGET_DIR/debug"
export LD_LIBRARY_PATH="$CITYGUIDE_FFI_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CITYGUIDE_BIN="$CARGO_TARGET_DIR/debug/cityguide"
# The tests are XCTests; Swift 6's second runner (Swift Testing) would only add a closing "0 tests" line.
flags=()
if scripts/swift-run.sh swift test --help 2>/dev/null | grep -q -- --disable-swift-testing; then
    flags+=(--disable-swift-testing)
fi
# A hung test must not hang CI: timeout ends swift test and the test process it started (the chroot always has
# coreutils' timeout; a Mac may not).
limit=()
if [[ "$mode" != native ]] || command -v timeout >/dev/null 2>&1; then
    limit=(timeout -k 10 "${CITYGUIDE_SWIFT_TEST_TIMEOUT:-1200}")
fi
scripts/swift-run.sh -C ios ${limit[@]+"${limit[@]}"} swift test ${flags[@]+"${flags[@]}"}

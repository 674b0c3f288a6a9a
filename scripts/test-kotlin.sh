#!/usr/bin/env bash
# The Kotlin library's JVM tests against the host's native library, end to end over a loopback server.
# Builds libcityguide_ffi and the cityguide binary, checks that the committed bindings are fresh, then runs the Maven
# build of android/guide (kotlinc with -Werror: the generated bindings must compile without warnings) and its JUnit
# tests. Installs a JDK and Maven with apt when they are missing; Maven fetches its dependencies itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v mvn >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  echo "installing a JDK and Maven (apt)" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq default-jdk-headless maven >&2
fi

lib=$(scripts/bindgen.sh --check | tail -n 1)
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --locked -q -p cityguide-cli
cli="$target_dir/debug/cityguide"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
mvn -B -f android/guide/pom.xml \
  -Dcityguide.native.dir="$(dirname "$lib")" \
  -Dcityguide.cli="$cli" \
  -Dcityguide.repo="$root" \
  test >"$log" 2>&1 || status=$?
# Surefire's summary and any failure, without Maven's download chatter.
grep -E "Tests run:|FAIL|ERROR|WARNING" "$log" | grep -v "Downloading\|Downloaded" || true
if [ "$status" != 0 ]; then
  echo "Kotlin tests failed; full Maven log follows" >&2
  cat "$log" >&2
  exit "$status"
fi
if grep -q "^\[WARNING\]" "$log"; then
  echo "the Maven build printed warnings (see above); the Kotlin build must be warning-free" >&2
  exit 1
fi

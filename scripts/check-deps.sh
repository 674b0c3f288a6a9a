#!/usr/bin/env bash
# The phone library links only what a phone needs: no publisher, CLI, server or test crates, no time-zone database,
# no UniFFI bindgen, no crash points.
#   scripts/check-deps.sh                       check cityguide-ffi; exit 1 and say what was found otherwise
#   scripts/check-deps.sh --package NAME        check another package the same way (e.g. to see the check fail)
#
# The question is "what is linked into libcityguide_ffi", so the query is the dependency tree over normal edges
# without proc-macro crates (those run inside the compiler: uniffi's macros read uniffi.toml with `toml`, but no
# byte of `toml` reaches the library), for every target platform (`--target all`: Android and iOS included), with
# the features cargo resolves when it builds that package alone. No build: cargo tree reads Cargo.lock and the
# manifests only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

package=cityguide-ffi
case "${1:-}" in
  --package) package=${2:?--package needs a name} ;;
  "") ;;
  *) echo "unknown argument: $1 (usage: $0 [--package NAME])" >&2; exit 2 ;;
esac

# Crates that must never be linked into the phone library, and why.
forbidden=(
  "csv:publisher sources" "geojson:publisher sources" "toml:publisher sources" "geo:publisher spatial joins"
  "osmpbf:OSM import" "clap:CLI" "indicatif:CLI progress" "tiny_http:city server" "ureq:HTTP for CLI and tests"
  "axum:city server" "tokio:city server" "hyper:city server" "tower:city server" "tower-http:city server"
  "postgres:city server" "tokio-postgres:city server" "lettre:city server" "argon2:city server"
  "quick-xml:city server (Open311)"
  "criterion:benchmarks" "chrono-tz:a whole time-zone database; packs carry their zone's rules"
  "uniffi_bindgen:the binding generator, for tools/uniffi-bindgen only"
)

query=(cargo tree -p "$package" -e normal,no-proc-macro --prefix none --target all)
feature_query=(cargo tree -p "$package" -e normal,no-proc-macro,features --prefix none --target all)
crates=$("${query[@]}" | sed -e 's/ (\*)$//' | sort -u)
features=$("${feature_query[@]}" | sed -e 's/ (\*)$//' | sort -u)

failures=()
# Crate names are the first word of each line ("serde v1.0.228", "cityguide-core v0.1.0 (/path)").
names=$(printf '%s\n' "$crates" | awk '{print $1}' | sort -u)
for entry in "${forbidden[@]}"; do
  name=${entry%%:*}
  if printf '%s\n' "$names" | grep -qx -- "$name"; then
    failures+=("$name is in the tree (${entry#*:})")
  fi
done
for name in $(printf '%s\n' "$names" | grep '^cityguide-' || true); do
  if [ "$name" != cityguide-core ] && [ "$name" != "$package" ]; then
    failures+=("$name is in the tree (only cityguide-core may be)")
  fi
done
if printf '%s\n' "$features" | grep -qx 'uniffi feature "cli"'; then
  failures+=('uniffi feature "cli" is enabled (it pulls in uniffi_bindgen; only tools/uniffi-bindgen may use it)')
fi
if printf '%s\n' "$features" | grep -qx 'cityguide-core feature "failpoints"'; then
  failures+=('cityguide-core feature "failpoints" is enabled (crash points are for the crash tests only)')
fi
if printf '%s\n' "$features" | grep -qx 'cityguide-core feature "http"'; then
  failures+=('cityguide-core feature "http" is enabled (the apps bring their own HTTP stacks)')
fi

count=$(printf '%s\n' "$names" | grep -c .)
echo "checked: ${query[*]}"
echo "  $count crates in the tree of $package (any target); none of them is:"
for entry in "${forbidden[@]}"; do echo "    ${entry%%:*} (${entry#*:})"; done
echo "    any cityguide-* crate but cityguide-core"
echo "checked: ${feature_query[*]}"
echo "  not enabled: uniffi feature \"cli\", cityguide-core features \"failpoints\" and \"http\""
if [ ${#failures[@]} -gt 0 ]; then
  echo
  for f in "${failures[@]}"; do echo "FAIL: $f" >&2; done
  echo "(find who brings it in: cargo tree -p $package -e normal,no-proc-macro,features --target all -i NAME)" >&2
  exit 1
fi
echo "ok: the $package tree is a phone library's"

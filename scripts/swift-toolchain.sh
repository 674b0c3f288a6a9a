#!/usr/bin/env bash
# Makes a Swift toolchain available for the iOS library's tests; prints how to reach it.
#
# - If `swift` is on PATH (macOS with Xcode, or a Linux with Swift installed) it is used as is: prints "native".
# - Otherwise, on Debian-like Linux, it builds once a minimal Debian trixie root file system holding Debian's own
#   `swiftlang` package, cached OUTSIDE the repository in ${CITYGUIDE_SWIFT_ROOT:-$HOME/.cache/cityguide/swift-trixie},
#   and prints "chroot DIR". `scripts/swift-run.sh` runs commands inside it. The first run takes a few minutes and
#   about 3 GB; later runs return at once.
#
# The Debian mirror is the one this machine's apt already uses (read from /etc/apt/sources.list{,.d}), or
# $CITYGUIDE_DEBIAN_MIRROR. Needs root (debootstrap, chroot); uses sudo when not root.
# Set CITYGUIDE_SWIFT_CHROOT=1 to use the chroot even when a native swift exists.
set -euo pipefail

SUITE=trixie
PACKAGES=(swiftlang libc6-dev libstdc++-14-dev ca-certificates)
# Bump when PACKAGES or the layout changes so cached roots are rebuilt.
STAMP_VERSION=1

if [[ "${CITYGUIDE_SWIFT_CHROOT:-0}" != 1 ]] && command -v swift >/dev/null 2>&1; then
    echo native
    exit 0
fi

if [[ "$(uname -s)" != Linux ]]; then
    echo "swift-toolchain: no 'swift' on PATH; on macOS install Xcode or the Swift toolchain" >&2
    exit 1
fi

root_dir=${CITYGUIDE_SWIFT_ROOT:-$HOME/.cache/cityguide/swift-trixie}
stamp="$root_dir/.cityguide-swift-ready"
stamp_text="v$STAMP_VERSION ${PACKAGES[*]}"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$stamp_text" ]]; then
    echo "chroot $root_dir"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "swift-toolchain: building the Swift chroot needs root (debootstrap, chroot) and sudo is missing" >&2
        exit 1
    fi
fi

log() { printf 'swift-toolchain: %s\n' "$*" >&2; }

# The first Debian archive URI apt is configured with (deb822 .sources or one-line .list), skipping security and
# third-party repositories. Printed without a trailing slash.
detect_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        while read -r uri; do
            case "$uri" in
                *security*) ;;
                */debian | */debian/) echo "${uri%/}"; return 0 ;;
            esac
        done < <(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' "$f")
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        while read -r uri; do
            case "$uri" in
                *security*) ;;
                */debian | */debian/) echo "${uri%/}"; return 0 ;;
            esac
        done < <(awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }' "$f")
    done
    return 1
}

mirror=${CITYGUIDE_DEBIAN_MIRROR:-}
if [[ -z "$mirror" ]]; then
    mirror=$(detect_mirror) || {
        echo "swift-toolchain: no Debian mirror found in /etc/apt; set CITYGUIDE_DEBIAN_MIRROR" >&2
        exit 1
    }
fi

mkdir -p "$(dirname "$root_dir")"
exec 9>"$root_dir.lock"
flock 9
# Another process may have finished while this one waited for the lock.
if [[ -f "$stamp" && "$(cat "$stamp")" == "$stamp_text" ]]; then
    echo "chroot $root_dir"
    exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

start=$(date +%s)
work="$root_dir.partial"
"${SUDO[@]}" rm -rf "$work"
log "debootstrap $SUITE from $mirror into $work (a few minutes, once)"
# The trixie script may be missing on an older debootstrap; sid's script fits every recent suite.
script_arg=()
if [[ ! -e /usr/share/debootstrap/scripts/$SUITE ]]; then
    script_arg=(/usr/share/debootstrap/scripts/sid)
fi
"${SUDO[@]}" debootstrap --variant=minbase "$SUITE" "$work" "$mirror" "${script_arg[@]}" >"$root_dir.debootstrap.log" 2>&1 || {
    tail -n 30 "$root_dir.debootstrap.log" >&2
    echo "swift-toolchain: debootstrap failed (log: $root_dir.debootstrap.log)" >&2
    exit 1
}

log "installing ${PACKAGES[*]} inside the chroot"
"${SUDO[@]}" unshare -m --propagation private sh -euc '
    work=$1; shift
    mount -t proc proc "$work/proc"
    mount --rbind /dev "$work/dev"
    cp /etc/resolv.conf "$work/etc/resolv.conf" 2>/dev/null || true
    chroot "$work" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    chroot "$work" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
    chroot "$work" apt-get clean
' sh "$work" "${PACKAGES[@]}" >"$root_dir.apt.log" 2>&1 || {
    tail -n 30 "$root_dir.apt.log" >&2
    echo "swift-toolchain: installing Swift in the chroot failed (log: $root_dir.apt.log)" >&2
    exit 1
}

"${SUDO[@]}" rm -rf "$root_dir"
"${SUDO[@]}" mv "$work" "$root_dir"
echo "$stamp_text" | "${SUDO[@]}" tee "$stamp" >/dev/null
log "ready in $(($(date +%s) - start)) s: $("$(dirname "$0")/swift-run.sh" swift --version 2>&1 | head -n 1)"
echo "chroot $root_dir"

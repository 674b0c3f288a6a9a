#!/usr/bin/env bash
# Runs a command with the Swift toolchain that scripts/swift-toolchain.sh provides.
#
#   scripts/swift-run.sh [--bind DIR]... [-C DIR] COMMAND [ARGS...]
#   e.g. scripts/swift-run.sh -C ios swift test
#
# With a native swift the command simply runs in DIR. With the Debian trixie chroot it runs there inside a private
# mount namespace (`unshare -m`, so nothing stays mounted afterwards) with /proc and /dev mounted and these host
# directories bind-mounted at the same paths, so absolute paths mean the same inside and outside:
#   the repository, its sibling ../shared (test data) when present, $CARGO_TARGET_DIR (or the repository's target/,
#   where libcityguide_ffi.so and the cityguide binary are), every --bind DIR, and each entry of the colon-separated
#   $CITYGUIDE_SWIFT_BINDS.
# The host network is shared, so loopback servers are reachable from both sides. Variables named CITYGUIDE_* and
# LD_LIBRARY_PATH pass through; everything else in the environment is reset.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
workdir=$PWD
binds=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --bind) binds+=("$(cd "$2" && pwd)"); shift 2 ;;
        -C) workdir=$(cd "$2" && pwd); shift 2 ;;
        --) shift; break ;;
        -*) echo "swift-run: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
if [[ $# -eq 0 ]]; then
    echo "usage: scripts/swift-run.sh [--bind DIR]... [-C DIR] COMMAND [ARGS...]" >&2
    exit 2
fi

mode=$("$repo/scripts/swift-toolchain.sh")
if [[ "$mode" == native ]]; then
    cd "$workdir"
    exec "$@"
fi
root_dir=${mode#chroot }

binds+=("$repo")
[[ -d "$repo/../shared" ]] && binds+=("$(cd "$repo/../shared" && pwd)")
target=${CARGO_TARGET_DIR:-$repo/target}
mkdir -p "$target"
binds+=("$(cd "$target" && pwd)")
if [[ -n "${CITYGUIDE_SWIFT_BINDS:-}" ]]; then
    IFS=: read -r -a extra <<<"$CITYGUIDE_SWIFT_BINDS"
    for d in "${extra[@]}"; do [[ -n "$d" ]] && binds+=("$(cd "$d" && pwd)"); done
fi

envs=(HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
while IFS='=' read -r name _; do
    case "$name" in
        CITYGUIDE_* | LD_LIBRARY_PATH) envs+=("$name=${!name}") ;;
    esac
done < <(env)

SUDO=()
[[ $(id -u) -ne 0 ]] && SUDO=(sudo)

# Arguments to the inner shell: root, workdir, number of binds, binds..., number of env entries, envs..., command...
exec "${SUDO[@]}" unshare -m --propagation private bash -euc '
    root=$1 workdir=$2 nb=$3; shift 3
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    for ((i = 0; i < nb; i++)); do
        d=$1; shift
        mkdir -p "$root$d"
        mount --bind "$d" "$root$d"
    done
    ne=$1; shift
    envs=("${@:1:ne}"); shift "$ne"
    exec chroot "$root" /usr/bin/env -i "${envs[@]}" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"
' swift-run "$root_dir" "$workdir" "${#binds[@]}" "${binds[@]}" "${#envs[@]}" "${envs[@]}" "$@"

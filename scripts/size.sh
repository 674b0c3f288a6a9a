#!/usr/bin/env bash
# How big is the phone library, and what makes it so.
#   scripts/size.sh                 build the phone library (cityguide-ffi, `phone` profile), print its stripped size and the top crates
#   scripts/size.sh --check         the same, and fail (exit 1) when the stripped library exceeds the budget
#   scripts/size.sh --top N         show N crates instead of 15
#
# The library is built exactly as `cargo build -p cityguide-ffi --profile phone` builds it (the same crate types and
# profile: what the apps ship); the only addition is a linker map (-Wl,-Map), written beside it, from which the per-crate figures come.
# The profile keeps symbols (UniFFI reads its metadata from the unstripped library), so the size that ships
# is that of a stripped copy: this script strips a copy and measures it.
#
# Units: bytes, and MB = 1,000,000 bytes (not MiB). Budget: 3,000,000 bytes (docs/performance.md, "Phone library
# size"); override with SIZE_BUDGET_BYTES. The per-crate table counts what each crate puts into the loaded sections
# (code, read-only data, unwind tables, data); "linker" is what the linker makes for all of them (relocations,
# dynamic symbols, merged string constants). Needs cargo, binutils (strip, nm) and perl; installs binutils with
# apt-get when it is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

check=false
top=15
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=true ;;
    --top) top=${2:?--top needs a number}; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed -e 's/^# //' -e 's/^#$//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
budget=${SIZE_BUDGET_BYTES:-3000000}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need strip || ! need nm; then
  if need apt-get && [ "$(id -u)" = 0 ]; then
    echo "installing binutils (strip, nm)" >&2
    apt-get update -qq >&2 && apt-get install -y -qq binutils >&2
  else
    echo "strip and nm are missing: install binutils" >&2
    exit 1
  fi
fi
need cargo || { echo "cargo is missing: install Rust (https://rustup.rs)" >&2; exit 1; }
need perl || { echo "perl is missing (Debian's perl-base is essential; apt-get install perl-base)" >&2; exit 1; }

target_dir=$(cargo metadata --format-version 1 --no-deps | perl -ne 'print $1 if /"target_directory":"([^"]+)"/')
out="$target_dir/phone"
map="$out/libcityguide_ffi.map"
echo "building cityguide-ffi (profile phone) ..." >&2
cargo rustc -p cityguide-ffi --profile phone --lib --quiet -- -C "link-arg=-Wl,-Map=$map"
lib="$out/libcityguide_ffi.so"
stripped="$out/libcityguide_ffi.stripped.so"
strip -o "$stripped" "$lib"

size=$(stat -c %s "$stripped")
unstripped=$(stat -c %s "$lib")
mb() { perl -e 'printf "%.2f", $ARGV[0] / 1e6' "$1"; }
echo "phone library (x86_64, profile phone): $lib"
echo "  stripped:   $size bytes ($(mb "$size") MB)"
echo "  unstripped: $unstripped bytes ($(mb "$unstripped") MB, symbols kept for UniFFI's metadata)"
echo "  rustc $(rustc --version | cut -d' ' -f2), profile.phone as in Cargo.toml"
echo

# Per crate, from the linker map (lld's format: VMA LMA Size Align Out In Symbol; rustc links with lld on
# x86_64 Linux since 1.90). Without such a map, fall back to code only, from the symbol table.
if head -1 "$map" 2>/dev/null | grep -q 'VMA.*LMA.*Size.*Align.*Out.*In.*Symbol'; then
  echo "top $top crates by size in the library (code + data + unwind tables, from the linker map):"
  perl -e '
    my ($map, $top, $total) = @ARGV;
    my (%by, $out, %alloc);
    # Sections that strip removes or that take no room in the file.
    my %skip = map { $_ => 1 } qw(.comment .symtab .strtab .shstrtab .bss .tbss);
    open(my $fh, "<", $map) or die "$map: $!";
    while (<$fh>) {
      next unless /^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(\S.*)$/;
      my ($size, $indent, $what) = (hex($1), length($2), $3);
      if ($indent == 0) { $out = $what; next }
      next if $indent > 8 || $skip{$out} || $out =~ /^\.debug/;
      my ($obj) = $what =~ /^(.*?):\(/ or next;
      my $crate;
      if ($obj eq "<internal>") {
        $crate = "linker (relocations, dynamic symbols, merged strings)";
      } elsif ($obj =~ m{/lib(\w+?)-[0-9a-f]{16}\.rlib\(([^)]*)\)$}) {
        my ($name, $member) = ($1, $2);
        $crate = $name;
        $crate .= " (C)" if $member =~ /\.o$/ && $member !~ /\.rcgu\.o$/;
        $crate .= " (Rust std)" if $obj =~ m{/rustlib/};
      } elsif ($obj =~ m{([^/]+)$}) {
        my $base = $1;
        # The final crate and, with LTO, every module: <final>.<crate>[-<hash>].<hash>-cgu.N.rcgu.o
        $crate = $base =~ /^\w+\.(\w+?)(?:-[0-9a-f]{16})?\./ ? $1 : $base;
      }
      $by{$crate} += $size;
    }
    my $n = 0;
    printf "  %10s  %5s  %s\n", "bytes", "share", "crate";
    for my $c (sort { $by{$b} <=> $by{$a} } keys %by) {
      last if ++$n > $top;
      printf "  %10d  %4.1f%%  %s\n", $by{$c}, 100 * $by{$c} / $total, $c;
    }
  ' "$map" "$top" "$size"
  echo
fi
# With fat LTO the Rust crates reach the linker as one object, so the map puts all their code under the final
# crate; the symbols still carry each function's crate, so code is attributed from the symbol table as well.
  echo "top $top crates by code size (functions in the symbol table; data tables are not attributed):"
  nm -S --size-sort -C -t d "$lib" | perl -ne '
    next unless /^\S+\s+(\d+)\s+[tTwW]\s+(.*)$/;
    my ($size, $name) = ($1, $2);
    $name =~ s/^(<|&|mut |dyn |\*const |\*mut )+//g;
    my $crate = $name =~ /^([A-Za-z_]\w*)::/ ? $1 : $name =~ /^uniffi_/ ? "cityguide_ffi exports (with what LTO inlined into them)" : $name =~ /^sqlite3/i ? "SQLite (C, exported functions only)" : $name =~ /^(ZSTD|HUF|FSE|HIST)_/ ? "zstd (C)" : "C statics (SQLite, zstd) and unnamed";
    $by{$crate} += $size;
    END {
      my $n = 0;
      printf "  %10s  %s\n", "bytes", "crate";
      for my $c (sort { $by{$b} <=> $by{$a} } keys %by) { last if ++$n > '"$top"'; printf "  %10d  %s\n", $by{$c}, $c }
    }'

if $check; then
  echo
  if [ "$size" -gt "$budget" ]; then
    echo "FAIL: the stripped library is $size bytes, over the budget of $budget bytes ($(mb "$budget") MB)" >&2
    exit 1
  fi
  echo "ok: $size bytes is within the budget of $budget bytes ($(mb "$budget") MB)"
fi

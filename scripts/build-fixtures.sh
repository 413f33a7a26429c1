#!/usr/bin/env bash
# Compiles every bpf/<scenario>/*.c into fixtures/<scenario>/<stem>.o, and the
# same sources with -DSHARED_WEAK (shared maps declared __weak, the form that
# libbpf's own linker accepts) into fixtures/<scenario>/weak/<stem>.o.
#   scripts/build-fixtures.sh [OUT_DIR]   (default: fixtures)
# Paths are relative and the compilation dir is fixed, so the bytes do not
# depend on where the repository is checked out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/fixtures}
case $out in /*) ;; *) out=$PWD/$out ;; esac
CLANG=${CLANG:-clang}
flags=(-O2 -g -target bpf -fdebug-compilation-dir=. -I../include)
for dir in "$root"/bpf/*/; do
	scenario=$(basename "$dir")
	[ "$scenario" = include ] && continue
	mkdir -p "$out/$scenario/weak"
	for src in "$dir"*.c; do
		[ -e "$src" ] || continue
		stem=$(basename "$src" .c)
		extra=()
		# A scenario may hold a file of extra flags for one source: <stem>.flags
		[ -f "$dir$stem.flags" ] && read -r -a extra < "$dir$stem.flags"
		(cd "$dir" && "$CLANG" "${flags[@]}" "${extra[@]}" -c "$stem.c" -o "$out/$scenario/$stem.o")
		(cd "$dir" && "$CLANG" "${flags[@]}" "${extra[@]}" -DSHARED_WEAK -c "$stem.c" -o "$out/$scenario/weak/$stem.o")
	done
done

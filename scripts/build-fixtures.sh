#!/usr/bin/env bash
# Compiles every bpf/<scenario>/*.c with two compilers:
#   clang 14 -> fixtures/<scenario>/<stem>.o            and fixtures/<scenario>/weak/<stem>.o
#   clang 19 -> fixtures/<scenario>/clang19/<stem>.o    and fixtures/<scenario>/clang19/weak/<stem>.o
# The weak/ objects are the same sources with -DSHARED_WEAK (shared maps declared __weak, the
# form that libbpf's own linker accepts).
#   scripts/build-fixtures.sh [OUT_DIR] [COMPILER...]   (default: fixtures, both compilers)
# COMPILER is clang14 or clang19. The binaries are $CLANG14 (or $CLANG; default clang-14, else
# clang) and $CLANG19 (default clang-19). A compiler that is asked for but missing is an error.
# clang 14's objects keep the folders they always had; clang 19's live in a clang19/ folder of
# each scenario, so a new scenario needs no other layout.
# Paths are relative and the compilation dir is fixed, so the bytes do not depend on where the
# repository is checked out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/fixtures}
case $out in /*) ;; *) out=$PWD/$out ;; esac
shift || true
compilers=("$@")
[ ${#compilers[@]} -gt 0 ] || compilers=(clang14 clang19)
flags=(-O2 -g -target bpf -fdebug-compilation-dir=. -I../include)

# The binary of a compiler name, and the folder (under fixtures/<scenario>/) of its objects.
binary() {
	case $1 in
	clang14)
		if [ -n "${CLANG14:-${CLANG:-}}" ]; then echo "${CLANG14:-$CLANG}"
		elif command -v clang-14 >/dev/null; then echo clang-14
		else echo clang; fi ;;
	clang19) echo "${CLANG19:-clang-19}" ;;
	*) echo "build-fixtures: unknown compiler $1 (clang14 or clang19)" >&2; exit 2 ;;
	esac
}
subdir() {
	case $1 in clang14) echo "" ;; clang19) echo "/clang19" ;; esac
}

for cc in "${compilers[@]}"; do
	bin=$(binary "$cc")
	command -v "$bin" >/dev/null || { echo "build-fixtures: $cc ($bin) not found" >&2; exit 1; }
	sub=$(subdir "$cc")
	for dir in "$root"/bpf/*/; do
		scenario=$(basename "$dir")
		[ "$scenario" = include ] && continue
		dest=$out/$scenario$sub
		mkdir -p "$dest/weak"
		for src in "$dir"*.c; do
			[ -e "$src" ] || continue
			stem=$(basename "$src" .c)
			extra=()
			# A scenario may hold a file of extra flags for one source: <stem>.flags
			[ -f "$dir$stem.flags" ] && read -r -a extra < "$dir$stem.flags"
			(cd "$dir" && "$bin" "${flags[@]}" "${extra[@]}" -c "$stem.c" -o "$dest/$stem.o")
			(cd "$dir" && "$bin" "${flags[@]}" "${extra[@]}" -DSHARED_WEAK -c "$stem.c" -o "$dest/weak/$stem.o")
		done
	done
done

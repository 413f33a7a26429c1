#!/usr/bin/env bash
# Profile one bpfmerge link of the benchmark corpus and print the top functions.
#
#   scripts/profile.sh [N] [callgrind|perf]      (defaults: 1000 callgrind)
#
#   N          number of objects of the benchmark profile KIND (default small; see bench/corpus.py)
#   callgrind  valgrind --tool=callgrind: exact instruction counts, inclusive and self
#   perf       perf record -e cpu-clock -g (software clock: this VM has no hardware counters)
#
# Env: BPFMERGE=path (default target/release/bpfmerge); PROFILE_BUILD=1 builds a release binary
# with line tables into target/profile first (for file:line in the annotations);
# KIND=small|medium|heavy|core|large.
# Raw data stays in target/bench-out/profile/ (callgrind_annotate / perf report on it for more).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
tool=${2:-callgrind}
kind=${KIND:-small}
bin=${BPFMERGE:-$root/target/release/bpfmerge}
if [ "${PROFILE_BUILD:-0}" = 1 ]; then
	(cd "$root" && CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
		cargo build --release --bin bpfmerge --target-dir target/profile)
	bin=$root/target/profile/release/bpfmerge
fi
[ -x "$bin" ] || { echo "no bpfmerge binary at $bin (set BPFMERGE=...)" >&2; exit 2; }
dir=$(python3 "$root/bench/corpus.py" "$kind" "$n")
mapfile -t objs < <(cd "$dir" && ls "${kind}"_*.o | head -n "$n")
out=$root/target/bench-out/profile
mkdir -p "$out"
cd "$dir"
echo "== $bin: $n $kind objects from $dir ($tool)" >&2
# the function table of callgrind_annotate's output, without its headers and the binary's path
top_fns() { awk '/file:function/ {on=1; next} on && NF' | sed -e 's# \[/[^]]*\]$##' -e 's#???:##' | head -n "$1"; }
case $tool in
callgrind)
	valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
		"$bin" "${objs[@]}" -o "$out/merged.o" 2> "$out/valgrind.log" || { cat "$out/valgrind.log" >&2; exit 1; }
	grep -E "Collected|summary" "$out/valgrind.log" >&2 || true
	echo "== top functions, inclusive (Ir)"
	callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null | top_fns 45
	echo
	echo "== top functions, self (Ir)"
	callgrind_annotate "$out/callgrind.out" 2>/dev/null | top_fns 35
	;;
perf)
	perf record -q -e cpu-clock -F 4000 -g -o "$out/perf.data" -- \
		"$bin" "${objs[@]}" -o "$out/merged.o"
	echo "== top functions, self"
	perf report -i "$out/perf.data" --no-children --stdio -g none --percent-limit 0.5 2>/dev/null \
		| grep -vE "^#|^\s*$" | head -40
	echo
	echo "== top functions, inclusive"
	perf report -i "$out/perf.data" --children --stdio -g none --percent-limit 2 2>/dev/null \
		| grep -vE "^#|^\s*$" | head -40
	;;
*) echo "unknown tool $tool (callgrind|perf)" >&2; exit 2 ;;
esac

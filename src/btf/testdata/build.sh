#!/bin/sh
# Rebuilds the BTF test inputs: cd src/btf/testdata && ./build.sh
set -e
for f in fwd_a fwd_b core core_kern; do
	clang -O2 -g -target bpf -fdebug-compilation-dir=. -I../../../bpf/include -c $f.c -o $f.o
done
# A big-endian object (not in the directory the LE tests list).
clang -O2 -g -target bpfeb -fdebug-compilation-dir=. -I../../../bpf/include -c core.c -o be/core.o

/* Test input for src/btf: `struct foo` only forward-declared. Build: see build.sh. */
#include "bpf_defs.h"

struct foo;
struct bar {
	struct foo *p;
	int x;
};

struct bar bar_a SEC(".data");

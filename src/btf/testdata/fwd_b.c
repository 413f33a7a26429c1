/* Test input for src/btf: `struct foo` complete; same `struct bar` as fwd_a.c. */
#include "bpf_defs.h"

struct foo {
	int v;
	struct foo *next;
};
struct bar {
	struct foo *p;
	int x;
};

struct bar bar_b SEC(".data");
struct foo foo_b SEC(".data");

/* clang 19 only: arena globals of a second file, after arena_a.bpf.c's in the merged
 * `.addr_space.1`, and arena_a.bpf.c's counter as an extern. */
#include "vmlinux.h"
#include "rw.h"

#define __arena __attribute__((address_space(1)))

extern int __arena arena_counter;
int __arena b_val = 5;
int __arena b_more[2] = { 100, 7 };

/* returns b_val + b_more[1] + 1000 * arena_counter */
SEC("xdp")
int xdp_arena_b(struct xdp_md *ctx)
{
	return b_val + b_more[1] + 1000 * arena_counter;
}

/* fold, file 2: fold_stats[1] = scale(packet length + 1), through its own
 * (identical) copy of shared.h's subprogram, which folds into main.c's.
 * Its own static function and static constant come after the folded copies
 * in .text and .rodata: when those are cut out they move, and the
 * section-relative call and load that reach them must move with them. */
#include "bpf_defs.h"
#include "shared.h"

static volatile const __u64 bias = 7;

/* x + 100 + bias (a static function: called section-relative). */
static __noinline __u64 add100(__u64 x)
{
	return x + 100 + bias;
}

SEC("xdp")
int xdp_tool(struct xdp_md *ctx)
{
	__u64 len = (__u64)ctx->data_end - (__u64)ctx->data;

	store(1, scale(len + 1));
	store(2, add100(len));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

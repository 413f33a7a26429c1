/* fold_differ: includes fold/shared.h but defines its own `scale`, which differs
 * (3 * x instead of 2 * x): linking it with main.c is an error that names the
 * first differing instruction. */
#define OWN_SCALE
#include "bpf_defs.h"
#include "../fold/shared.h"

__noinline __u64 scale(__u64 x)
{
	__u32 k = 3;
	__u64 *n = bpf_map_lookup_elem(&fold_stats, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return x * 3 + knob;
}

SEC("xdp")
int xdp_differ(struct xdp_md *ctx)
{
	__u64 len = (__u64)ctx->data_end - (__u64)ctx->data;

	store(2, scale(len));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

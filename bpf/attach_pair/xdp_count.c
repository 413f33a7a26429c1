/* attach_pair, file 1: XDP counts (slot SEEN_XDP) and passes. */
#include "pair.h"

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	struct pair_pkt *p = pair_match((void *)(long)ctx->data, (void *)(long)ctx->data_end);

	if (p)
		pair_add(SEEN_XDP, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

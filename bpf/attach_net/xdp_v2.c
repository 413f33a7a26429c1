/* attach_net: version 2 of the XDP guard (counts into hits[1]). */
#define VERSION 2
#include "guard.h"

SEC("xdp")
int xdp_guard(struct xdp_md *ctx)
{
	if (!is_guarded((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	count();
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

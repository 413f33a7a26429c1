/* attach_net: version 1 of the XDP guard (counts into hits[0]). */
#define VERSION 1
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

/* Drops packets shorter than 60 bytes, counting them in slot 1 of the shared `packets` map. */
#include "common.h"

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	if (ctx->data_end - ctx->data < 60) {
		bump(1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

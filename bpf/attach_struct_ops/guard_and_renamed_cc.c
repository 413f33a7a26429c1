/* attach_struct_ops: an object whose reload must fail half-way and change
 * nothing: version 2 of attach_net's XDP guard (updated first, in place) and
 * the struct_ops map bm_cc under another congestion control name, which the
 * kernel refuses to swap into bm_cc's link (a tcp_congestion_ops update must
 * keep its name). The guard must be given its old program back. */
#define VERSION 2
#define CC_NAME "bpfmerge_cc2"
#include "../attach_net/guard.h"
#include "cc.h"

SEC("xdp")
int xdp_guard(struct xdp_md *ctx)
{
	if (!is_guarded((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	count();
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

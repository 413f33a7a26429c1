/* fold, file 2: fold_stats[1] = scale(packet length + 1), through its own
 * (identical) copy of shared.h's subprogram. */
#include "bpf_defs.h"
#include "shared.h"

SEC("xdp")
int xdp_tool(struct xdp_md *ctx)
{
	__u64 len = (__u64)ctx->data_end - (__u64)ctx->data;

	store(1, scale(len + 1));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

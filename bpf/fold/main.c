/* fold, file 1: fold_stats[0] = scale(packet length), through the global
 * subprogram of shared.h. */
#include "bpf_defs.h"
#include "shared.h"

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
	__u64 len = (__u64)ctx->data_end - (__u64)ctx->data;

	store(0, scale(len));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

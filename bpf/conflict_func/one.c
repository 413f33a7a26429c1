/* conflict_func: a strong global function classify() here and in two.c. */
#include "bpf_defs.h"

__noinline int classify(int x)
{
	return x + 1;
}

SEC("xdp")
int xdp_one(struct xdp_md *ctx)
{
	return classify(ctx->ingress_ifindex) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

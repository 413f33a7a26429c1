/* conflict_func: a strong global function classify() here and in one.c. */
#include "bpf_defs.h"

__noinline int classify(int x)
{
	return x + 2;
}

SEC("xdp")
int xdp_two(struct xdp_md *ctx)
{
	return classify(ctx->ingress_ifindex) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

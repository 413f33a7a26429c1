/* Counts every packet in slot 0 of the shared `packets` map. */
#include "common.h"

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	bump(0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

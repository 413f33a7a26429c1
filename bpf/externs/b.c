/* externs, file 2: the same externs, recorded in ext_stats[3..5]. */
#include "bpf_defs.h"
#include "externs.h"

SEC("xdp")
int xdp_ext_b(struct xdp_md *ctx)
{
	record(3);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

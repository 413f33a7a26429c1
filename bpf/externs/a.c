/* externs, file 1: records the externs of externs.h in ext_stats[0..2]. */
#include "bpf_defs.h"
#include "externs.h"

SEC("xdp")
int xdp_ext_a(struct xdp_md *ctx)
{
	record(0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

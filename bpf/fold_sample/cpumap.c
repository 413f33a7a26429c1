/* fold_sample, tool 2 (like xdp_redirect_cpumap): the same sample programs
 * plus its own XDP program; sample_stats[3] counts its runs. */
#include "bpf_defs.h"
#include "sample.h"

SEC("xdp")
int xdp_cpumap(struct xdp_md *ctx)
{
	sample_add(3, 1);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

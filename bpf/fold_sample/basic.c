/* fold_sample, tool 1 (like xdp_redirect_basic): the sample programs plus
 * its own XDP program; sample_stats[2] counts its runs. */
#include "bpf_defs.h"
#include "sample.h"

SEC("xdp")
int xdp_basic(struct xdp_md *ctx)
{
	sample_add(2, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

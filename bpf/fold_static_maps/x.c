/* fold_static_maps, file 1: bump_hdr(1). */
#include "bpf_defs.h"
#include "hdr.h"

SEC("xdp")
int xdp_x(struct xdp_md *ctx)
{
	return bump_hdr(1) == 1 ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

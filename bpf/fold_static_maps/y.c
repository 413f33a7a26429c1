/* fold_static_maps, file 2: bump_hdr(10). */
#include "bpf_defs.h"
#include "hdr.h"

SEC("xdp")
int xdp_y(struct xdp_md *ctx)
{
	return bump_hdr(10) == 10 ? XDP_TX : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

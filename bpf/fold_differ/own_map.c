/* fold_differ: fold_static_maps/hdr.h with its static map made a HASH: the
 * static maps differ and are kept apart, so this file's bump_hdr reaches
 * another map than x.c's, and the two (byte-identical) copies do not fold. */
#define HDR_MAP_TYPE BPF_MAP_TYPE_HASH
#include "bpf_defs.h"
#include "../fold_static_maps/hdr.h"

SEC("xdp")
int xdp_own_map(struct xdp_md *ctx)
{
	return bump_hdr(3) == 3 ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

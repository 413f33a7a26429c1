/* loader_reject: shares the seed's prog array `xdp_actions` and initialises
 * its slot 1 with its own program through `.values`. libbpf writes that slot
 * while the object loads; when a later object of the same `load` is rejected,
 * the pinned prog array must get its old slot 1 back. */
#include "bpf_defs.h"

int xdp_fill(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct xdp_md *));
} xdp_actions SEC(".maps") = {
	.values = { [1] = (void *)&xdp_fill },
};

SEC("xdp")
int xdp_fill(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

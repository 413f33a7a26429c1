/* empty_section, file 2: another program sharing `counts`, linked after
 * funcs.c. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps") SHARED;

/* counts[1] += 3; returns XDP_TX. */
SEC("xdp")
int xdp_other(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	if (v)
		__sync_fetch_and_add(v, 3);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

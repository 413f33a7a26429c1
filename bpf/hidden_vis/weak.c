/* hidden_vis, file 3: a `__weak __hidden` take_third that loses to def.c's strong one (which
 * returns p[2], where this one would return p[0]); its visibility still makes the survivor
 * hidden. */
#include "bpf_defs.h"

#define __hidden __attribute__((visibility("hidden")))

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vis_counts SEC(".maps");

__weak __hidden int take_third(__u64 *p)
{
	return p[0];
}

SEC("xdp")
int xdp_vis_weak(struct xdp_md *ctx)
{
	__u64 three[3] = { XDP_DROP, XDP_ABORTED, XDP_PASS };
	__u32 k = 2;
	__u64 *v = bpf_map_lookup_elem(&vis_counts, &k);

	if (v)
		*v += 100;
	return take_third(three);
}

char LICENSE[] SEC("license") = "GPL";

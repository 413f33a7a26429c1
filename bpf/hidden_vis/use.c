/* hidden_vis, file 2: declares def.c's take_second `__hidden` (the kernel selftests'
 * linked_funcs pattern) and calls it with a two-element array. */
#include "bpf_defs.h"

#define __hidden __attribute__((visibility("hidden")))

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vis_counts SEC(".maps");

__hidden extern int take_second(__u64 *p);

SEC("xdp")
int xdp_vis_use(struct xdp_md *ctx)
{
	__u64 pair[2] = { XDP_DROP, XDP_TX };
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&vis_counts, &k);

	if (v)
		*v += 10;
	return take_second(pair);
}

char LICENSE[] SEC("license") = "GPL";

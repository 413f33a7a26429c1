/* hidden_vis, file 1: plain (default-visibility) global definitions of two helpers. Read
 * alone, the kernel would verify them as global functions: `p` is then a pointer to one u64,
 * so p[1] and p[2] are out of bounds. Only as hidden (static) subprograms, verified with
 * their callers' arrays, do they load: use.c's extern and weak.c's losing weak definition say
 * __hidden, and the strictest visibility of every symbol of the name wins. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vis_counts SEC(".maps");

int take_second(__u64 *p)
{
	return p[1];
}

int take_third(__u64 *p)
{
	return p[2];
}

SEC("xdp")
int xdp_vis_def(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&vis_counts, &k);

	if (v)
		*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

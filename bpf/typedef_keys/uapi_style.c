/* typedef_keys, file 2: the same map with the linux/types.h spellings (__u32, __u64): one
 * type through typedefs, so the two definitions must merge. */
#include "bpf_defs.h"

struct flow { __u32 saddr; __u32 daddr; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow);
	__type(value, __u64);
} flows SEC(".maps");

SEC("xdp")
int xdp_uapi(struct xdp_md *ctx)
{
	struct flow f = { .saddr = 1, .daddr = 2 };
	__u64 *n = bpf_map_lookup_elem(&flows, &f);
	if (n)
		__sync_fetch_and_add(n, 1);
	return n ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

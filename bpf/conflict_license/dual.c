/* conflict_license: license "Dual MIT/GPL" here, "GPL" in gpl.c. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} lic_map SEC(".maps") SHARED;

SEC("xdp")
int xdp_dual(struct xdp_md *ctx)
{
	__u32 key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&lic_map, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

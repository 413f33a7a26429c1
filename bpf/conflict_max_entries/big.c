/* conflict_max_entries: flows has max_entries 4096 here, 1024 in small.c. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} flows SEC(".maps") SHARED;

SEC("xdp")
int xdp_big(struct xdp_md *ctx)
{
	__u32 key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&flows, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

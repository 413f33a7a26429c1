/* conflict_pinning: pinned_stats is pinned by name here, not pinned in unpinned.c. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_stats SEC(".maps") SHARED;

SEC("xdp")
int xdp_pinned(struct xdp_md *ctx)
{
	__u32 key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&pinned_stats, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* conflict_pinning: pinned_stats has no pinning attribute here (LIBBPF_PIN_NONE), LIBBPF_PIN_BY_NAME in pinned.c. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} pinned_stats SEC(".maps") SHARED;

SEC("xdp")
int xdp_unpinned(struct xdp_md *ctx)
{
	__u32 key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&pinned_stats, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* conflict_map_type: conn_table is an LRU_HASH here, a HASH in hash.c. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} conn_table SEC(".maps") SHARED;

SEC("xdp")
int xdp_lru(struct xdp_md *ctx)
{
	__u32 key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&conn_table, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

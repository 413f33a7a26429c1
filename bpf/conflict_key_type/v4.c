/* conflict_key_type: the key of conns is struct key_v4 here, struct key_ports (same size, 4 bytes) in ports.c. */
#include "bpf_defs.h"

struct key_v4 {
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct key_v4);
	__type(value, __u64);
} conns SEC(".maps") SHARED;

SEC("xdp")
int xdp_v4(struct xdp_md *ctx)
{
	struct key_v4 key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&conns, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

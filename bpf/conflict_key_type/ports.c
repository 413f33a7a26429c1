/* conflict_key_type: the key of conns is struct key_ports here, struct key_v4 (same size, 4 bytes) in v4.c. */
#include "bpf_defs.h"

struct key_ports {
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct key_ports);
	__type(value, __u64);
} conns SEC(".maps") SHARED;

SEC("xdp")
int xdp_ports(struct xdp_md *ctx)
{
	struct key_ports key;
	__u64 one = 1;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_map_update_elem(&conns, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

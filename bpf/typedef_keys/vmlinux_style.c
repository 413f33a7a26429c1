/* typedef_keys, file 1: spells the key and value types the vmlinux.h way (u32, u64, and a
 * struct whose members use them). */
#include "bpf_defs.h"

typedef __u32 u32;
typedef __u64 u64;
struct flow { u32 saddr; u32 daddr; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow);
	__type(value, u64);
} flows SEC(".maps");

SEC("xdp")
int xdp_vm(struct xdp_md *ctx)
{
	struct flow f = { .saddr = 1, .daddr = 2 };
	u64 one = 1;
	bpf_map_update_elem(&flows, &f, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

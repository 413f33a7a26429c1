/* migrate_percpu v2: see pcpu_v1.c. */
#include "bpf_defs.h"

struct counts {
	__u32 drops; /* byte 0 */
	__u32 flags; /* byte 4 */
	__u64 pkts;  /* byte 8 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counts);
} pcpu SEC(".maps");

SEC("xdp")
int pcpu_update(struct xdp_md *ctx)
{
	__u32 key = ctx->data_end - ctx->data;
	struct counts *c = bpf_map_lookup_elem(&pcpu, &key);
	if (c)
		c->pkts += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* migrate_percpu v1: per-CPU counters { __u64 pkts; __u32 drops; } (16 bytes with padding)
 * in a per-CPU hash of 128 entries. v2 (pcpu_v2.c) moves `drops` to the front, adds `flags`
 * and doubles max_entries. */
#include "bpf_defs.h"

struct counts {
	__u64 pkts;  /* byte 0 */
	__u32 drops; /* byte 8 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 128);
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

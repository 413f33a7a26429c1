/* loader_mismatch: `counters` as in the seed scenario but with 8 entries
 * instead of 4, so it cannot reuse a pinned seed `counters`. It also defines a
 * map of its own (`mismatch_extra`) that must not get pinned when the load
 * fails. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} mismatch_extra SEC(".maps");

SEC("xdp")
int xdp_mismatch(struct xdp_md *ctx)
{
	__u32 key = 7;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	if (bpf_map_lookup_elem(&mismatch_extra, &key))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

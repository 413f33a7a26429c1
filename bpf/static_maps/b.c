/* static_maps, file B (modelled on linked_maps2.c): its own static
 * `map_static`, an ARRAY (a.c's is a HASH), and the shared static
 * `map_same`. */
#include "bpf_defs.h"

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} map_static SEC(".maps");

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} map_same SEC(".maps");

/* map_static[1] += 200 (an ARRAY slot that exists from the start),
 * map_same[0] += 10; returns XDP_TX only when the slot was found. */
SEC("xdp")
int xdp_static_b(struct xdp_md *ctx)
{
	__u32 k = 1, zero = 0;
	__u64 *v = bpf_map_lookup_elem(&map_static, &k), *same;

	if (!v)
		return XDP_ABORTED;
	__sync_fetch_and_add(v, 200);
	same = bpf_map_lookup_elem(&map_same, &zero);
	if (same)
		__sync_fetch_and_add(same, 10);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

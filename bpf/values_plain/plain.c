/* values_plain, file 1: the prog array `jmp` and the map-in-map `outer` are
 * declared plainly here (a value type or a value size of 4, no `values`
 * member); vals.c declares them with `values` and initialises them. For
 * libbpf a `values` member means value_size 4, so the definitions agree and
 * the linked map is vals.c's (the richer one, with its initialisers). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, 4);
} outer SEC(".maps") SHARED;

/* hits[0]++, then jmp[0] (vals.c's xdp_target, which returns XDP_TX). */
SEC("xdp")
int xdp_plain_tail(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_ABORTED;
}

/* (outer[0])[0] += 7: outer[0] is vals.c's inner_map. */
SEC("xdp")
int xdp_plain_lookup(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;
	void *inner = bpf_map_lookup_elem(&outer, &zero);

	if (!inner)
		return XDP_DROP;
	v = bpf_map_lookup_elem(inner, &zero);
	if (!v)
		return XDP_ABORTED;
	__sync_fetch_and_add(v, 7);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

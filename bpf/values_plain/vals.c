/* values_plain, file 2: declares `jmp` and `outer` with `values` members and
 * initialises jmp[0] = xdp_target and outer[0] = inner_map. plain.c declares
 * the same maps plainly and uses them too. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;

int xdp_target(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") SHARED = {
	.values = { [0] = (void *)&xdp_target },
};

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_def inner_map SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer SEC(".maps") SHARED = {
	.values = { [0] = &inner_map },
};

/* hits[1]++; returns XDP_TX. */
SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_TX;
}

/* hits[2]++, then jmp[0] (xdp_target) from this file too. */
SEC("xdp")
int xdp_vals_tail(struct xdp_md *ctx)
{
	__u32 k = 2;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_ABORTED;
}

/* (outer[0])[0] += 5. */
SEC("xdp")
int xdp_vals_lookup(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;
	void *inner = bpf_map_lookup_elem(&outer, &zero);

	if (!inner)
		return XDP_DROP;
	v = bpf_map_lookup_elem(inner, &zero);
	if (!v)
		return XDP_ABORTED;
	__sync_fetch_and_add(v, 5);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

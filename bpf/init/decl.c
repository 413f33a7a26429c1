/* init, file 1. Declares `jmp` and `outer` plainly (no initialiser: vals.c
 * initialises them) and initialises slot 0 of `chain`, whose slot 1 vals.c
 * initialises: after linking chain = { [0] = xdp_stage_a, [1] = xdp_stage_b }. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") SHARED;

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer SEC(".maps") SHARED;

int xdp_stage_a(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} chain SEC(".maps") SHARED = {
	.values = { [0] = (void *)&xdp_stage_a },
};

static __always_inline void bump(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* hits[0]++, then tail-call jmp[1] (vals.c's xdp_target). */
SEC("xdp")
int xdp_start(struct xdp_md *ctx)
{
	bump(0);
	bpf_tail_call(ctx, &jmp, 1);
	return XDP_ABORTED;
}

/* inner = outer[0] (vals.c's inner_map); inner[0] += 5. */
SEC("xdp")
int xdp_lookup(struct xdp_md *ctx)
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

/* hits[2]++, then chain[0] = xdp_stage_a (initialised here). */
SEC("xdp")
int xdp_chain(struct xdp_md *ctx)
{
	bump(2);
	bpf_tail_call(ctx, &chain, 0);
	return XDP_ABORTED;
}

/* hits[3]++, then chain[1] = xdp_stage_b (initialised in vals.c). */
SEC("xdp")
int xdp_stage_a(struct xdp_md *ctx)
{
	bump(3);
	bpf_tail_call(ctx, &chain, 1);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

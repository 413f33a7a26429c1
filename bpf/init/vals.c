/* init, file 2: initialises jmp[1] and outer[0] (declared plainly in
 * decl.c) and chain[1] (decl.c initialises chain[0]). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;

int xdp_target(struct xdp_md *ctx);
int xdp_stage_b(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") SHARED = {
	.values = { [1] = (void *)&xdp_target },
};

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_def inner_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer SEC(".maps") SHARED = {
	.values = { [0] = &inner_map },
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} chain SEC(".maps") SHARED = {
	.values = { [1] = (void *)&xdp_stage_b },
};

static __always_inline void bump(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Reached from decl.c's xdp_start through jmp[1]: hits[1]++. */
SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	bump(1);
	return XDP_TX;
}

/* Reached from decl.c's xdp_stage_a through chain[1]: hits[4]++. */
SEC("xdp")
int xdp_stage_b(struct xdp_md *ctx)
{
	bump(4);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

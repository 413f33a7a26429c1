/* seed, file 1: the XDP entry point. It counts its own runs in slot 0 of
 * `counters` and tail-calls, through the shared prog array, the program that
 * lives in handler.c (slot 1 of `xdp_actions`, filled by the loader/test). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xdp_actions SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") SHARED;

SEC("xdp")
int xdp_entry(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_tail_call(ctx, &xdp_actions, 1);
	/* Reached only when slot 1 is empty. */
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

/* extern_types_bad: the strong `long knob` against weak_int.c's weak `int knob`. */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

long knob = 9;

SEC("xdp")
int xdp_etb_strong(struct xdp_md *ctx)
{
	return knob == 9 ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

/* extern_types_bad: a weak `int knob`; strong_long.c's strong `long knob` would win and
 * this file's 4-byte reads would see half of it. libbpf's linker refuses the pair (int sizes
 * 4 and 8). */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

int knob __weak = 5;

SEC("xdp")
int xdp_etb_weak(struct xdp_md *ctx)
{
	return knob == 5 ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

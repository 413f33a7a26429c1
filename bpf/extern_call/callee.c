/* extern_call, file 2: defines `triple` and calls it itself. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} ec_out SEC(".maps") SHARED;

__noinline int triple(int x)
{
	return 3 * x;
}

SEC("xdp")
int xdp_ec_callee(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&ec_out, &k);

	if (v)
		*v += triple(7);
	return triple(1) - 1;
}

char LICENSE[] SEC("license") = "GPL";

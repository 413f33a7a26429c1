/* proto_copy, file 3: defines `quad` (named parameter: its own prototype) and calls it. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} pc_out SEC(".maps") SHARED;

__noinline int quad(int x)
{
	return 4 * x;
}

SEC("xdp")
int xdp_pc_callee(struct xdp_md *ctx)
{
	__u32 k = 2;
	__u64 *v = bpf_map_lookup_elem(&pc_out, &k);

	if (v)
		*v += quad(3);
	return quad(1) - 2;
}

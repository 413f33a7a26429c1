/* proto_copy, file 2: a global struct with a function pointer member whose prototype,
 * int (*)(int) with an unnamed parameter, is a copy of caller.c's extern prototype. Linked
 * after caller.c, this copy is the first member of its type class that is not redirected, so it
 * is the one the output keeps (the linker once lost it and shifted every later BTF id, which
 * made the kernel refuse the BTF, and with it caller.c's call of a global function). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} pc_out SEC(".maps") SHARED;

struct pc_ops {
	int (*cb)(int);
	int bias;
};

struct pc_ops pc_table = { 0, 40 };

SEC("xdp")
int xdp_pc_ops(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&pc_out, &k);

	if (v)
		*v += pc_table.bias + (pc_table.cb ? 1 : 0);
	return XDP_PASS;
}

/* proto_copy, file 1: calls callee.c's global `quad` through an extern declaration. clang
 * writes the extern's FUNC_PROTO with an unnamed parameter, and nothing else in this object
 * uses it, so once the extern is resolved the linker sends that prototype to the definition's. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} pc_out SEC(".maps") SHARED;

extern int quad(int x);

SEC("xdp")
int xdp_pc_caller(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&pc_out, &k);

	if (v)
		*v += quad(5);
	return quad(1) - 2;
}

char LICENSE[] SEC("license") = "GPL";

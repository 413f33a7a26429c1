/* extern_call, file 1: calls callee.c's global `triple` through an extern declaration, for
 * which clang writes a FUNC_PROTO of its own (unnamed parameter). Once the extern is resolved
 * that prototype has no user and must not stay in the output's BTF. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} ec_out SEC(".maps") SHARED;

extern int triple(int x);

SEC("xdp")
int xdp_ec_caller(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&ec_out, &k);
	int r = triple(1);

	if (v)
		*v += triple(5);
	return r;
}

char LICENSE[] SEC("license") = "GPL";

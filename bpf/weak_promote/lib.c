/* weak_promote, file 1: a library's overridable default `policy` (a weak definition), and a
 * program of its own that uses it. user.c declares `policy` with a plain (strong) extern: as
 * in libbpf's linker, the linked `policy` is then GLOBAL, not WEAK, so a later link with
 * another strong `policy` (weak_promote_relink/other.c) is a conflict, not a silent
 * override. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} wp_out SEC(".maps");

__weak __noinline int policy(int x)
{
	return x + 1;
}

SEC("xdp")
int xdp_wp_lib(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&wp_out, &k);
	int r = policy(1);

	if (v)
		*v += r;
	return r;
}

char LICENSE[] SEC("license") = "GPL";

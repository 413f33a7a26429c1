/* weak_promote, file 2: uses lib.c's `policy` through a plain extern declaration. */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} wp_out SEC(".maps");

extern int policy(int x);

SEC("xdp")
int xdp_wp_user(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&wp_out, &k);
	int r = policy(2);

	if (v)
		*v += r;
	return r;
}

char LICENSE[] SEC("license") = "GPL";

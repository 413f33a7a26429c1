/* loader_badname: a map whose symbol name (set with an asm label) would
 * escape DIR/maps if used as a pin name. The loader must refuse it. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} escape __asm__("../../escaped_map") SEC(".maps");

SEC("xdp")
int xdp_badmap(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&escape, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

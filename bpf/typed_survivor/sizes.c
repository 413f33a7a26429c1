/* typed_survivor, file 2: the same map `guarded` by sizes only (key 4 bytes, value 16), as
 * older code writes it; adds 100 to the value's second u64 (typed.c's `total`) without the
 * lock, which the kernel allows outside the lock's bytes. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, 16);
} guarded SEC(".maps");

SEC("xdp")
int xdp_sizes(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&guarded, &k);

	if (!v)
		return XDP_ABORTED;
	v[1] += 100;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

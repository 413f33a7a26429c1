/* ulong_extra, file 1: adds 42 to the bloom filter `seen`. */
#include "bloom.h"

SEC("xdp")
int xdp_bloom_add(struct xdp_md *ctx)
{
	__u32 v = 42;

	count(0);
	return bpf_map_push_elem(&seen, &v, 0) == 0 ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

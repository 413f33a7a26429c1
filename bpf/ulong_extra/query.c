/* ulong_extra, file 2: asks the bloom filter `seen` whether it may hold 42: XDP_PASS when it
 * may (an added value always may), XDP_DROP when it surely does not (an empty filter). */
#include "bloom.h"

SEC("xdp")
int xdp_bloom_has(struct xdp_md *ctx)
{
	__u32 v = 42;

	count(1);
	return bpf_map_peek_elem(&seen, &v) == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

/* attach_net: a third build of the XDP guard (hits[2]) shipped with a second
 * program the verifier rejects (a map value used without the NULL check):
 * loading this object must fail and leave the running guard attached. */
#define VERSION 3
#include "guard.h"

SEC("xdp")
int xdp_guard(struct xdp_md *ctx)
{
	if (!is_guarded((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	count();
	return XDP_DROP;
}

SEC("tc")
int tc_broken(struct __sk_buff *skb)
{
	__u32 key = 3;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	return *n ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";

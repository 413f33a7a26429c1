/* loader_share, file 1: writes the length of each packet it sees into slot 0
 * of the shared `mailbox` map; reader.c reads it back. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} mailbox SEC(".maps");

SEC("xdp")
int xdp_writer(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&mailbox, &key);
	if (!slot)
		return XDP_ABORTED;
	*slot = ctx->data_end - ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

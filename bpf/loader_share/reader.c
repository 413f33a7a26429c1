/* loader_share, file 2: reads slot 0 of the shared `mailbox` map (written by
 * writer.c), adds it to slot 1 and passes the packet when it found a value,
 * drops it when slot 0 was still zero. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} mailbox SEC(".maps");

SEC("xdp")
int xdp_reader(struct xdp_md *ctx)
{
	__u32 in = 0, out = 1;
	__u64 *seen = bpf_map_lookup_elem(&mailbox, &in);
	__u64 *sum = bpf_map_lookup_elem(&mailbox, &out);
	if (!seen || !sum)
		return XDP_ABORTED;
	if (*seen == 0)
		return XDP_DROP;
	__sync_fetch_and_add(sum, *seen);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

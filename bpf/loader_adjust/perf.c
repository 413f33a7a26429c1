/* loader_adjust: a perf event array without max_entries; libbpf creates it
 * with one entry per possible CPU, so the pinned map's max_entries (CPU count)
 * differs from the definition's 0. */
#include "bpf_defs.h"

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)25;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

SEC("xdp")
int xdp_perf(struct xdp_md *ctx)
{
	__u64 v = 3;
	bpf_perf_event_output(ctx, &perf_events, 0xffffffffULL, &v, sizeof(v));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

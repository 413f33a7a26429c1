/* xdp-tools pattern: per-CPU stats per XDP action, recorded by a global subprogram that the
 * programs of both files call; the action of xdp_cfg_func comes from a .rodata config. */
#include "vmlinux.h"
#include "rw.h"

struct datarec {
	__u64 rx_packets;
	__u64 rx_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct datarec);
	__uint(max_entries, 5);
} xdp_stats_map SEC(".maps");

struct config {
	__u32 action;
	__u32 mult;
};
const volatile struct config cfg = { .action = XDP_PASS, .mult = 1 };

/* stats[action] += 1 packet, (length * cfg.mult) bytes; returns the action. */
__noinline int record(struct xdp_md *ctx, __u32 action)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct datarec *rec;

	if (action >= 5)
		return XDP_ABORTED;
	rec = bpf_map_lookup_elem(&xdp_stats_map, &action);
	if (!rec)
		return XDP_ABORTED;
	rec->rx_packets += 1;
	rec->rx_bytes += (data_end - data) * cfg.mult;
	return action;
}

SEC("xdp")
int xdp_cfg_func(struct xdp_md *ctx)
{
	return record(ctx, cfg.action);
}

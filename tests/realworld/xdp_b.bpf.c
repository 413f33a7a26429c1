/* The second file of the xdp-tools pattern: the same stats map declared again, the recording
 * subprogram of xdp_a.bpf.c called as an extern. */
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

extern int record(struct xdp_md *ctx, __u32 action);

SEC("xdp")
int xdp_drop_func(struct xdp_md *ctx)
{
	return record(ctx, XDP_DROP);
}

SEC("xdp")
int xdp_tx_func(struct xdp_md *ctx)
{
	return record(ctx, XDP_TX);
}

char LICENSE[] SEC("license") = "GPL";

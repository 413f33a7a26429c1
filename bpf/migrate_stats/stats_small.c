/* migrate_stats, v2 in a hash of 8192 entries: the 10,000 entries of the test do not fit. */
#include "bpf_defs.h"

#define PROTO_T __u32
#include "stats_v2_layout.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct stats);
} stats SEC(".maps");

SEC("xdp")
int stats_update(struct xdp_md *ctx)
{
	return count_packet(&stats, ctx);
}

char LICENSE[] SEC("license") = "GPL";

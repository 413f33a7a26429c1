/* migrate_stats: another object sharing v1's `stats` (same definition); while its program is
 * pinned and not replaced, `stats` must not be migrated. */
#include "bpf_defs.h"

struct stats {
	__u64 packets;
	__u32 gone;
	__u32 proto;
	__u64 bytes;
};
#define STATS_T struct stats
#include "stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct stats);
} stats SEC(".maps");

SEC("xdp")
int stats_other(struct xdp_md *ctx)
{
	return count_packet(&stats, ctx);
}

char LICENSE[] SEC("license") = "GPL";

/* migrate_stats v1: per-flow statistics in a hash of 16384 entries.
 * v2 (stats_v2.c) doubles max_entries, removes `gone`, adds `added`, moves `bytes` to the
 * front; `packets` and `proto` are kept. */
#include "bpf_defs.h"

struct stats {
	__u64 packets; /* byte 0 */
	__u32 gone;    /* byte 8 */
	__u32 proto;   /* byte 12 */
	__u64 bytes;   /* byte 16; 24 bytes in all */
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
int stats_update(struct xdp_md *ctx)
{
	return count_packet(&stats, ctx);
}

char LICENSE[] SEC("license") = "GPL";

/* migrate_stats, v2 with `proto` narrowed to one byte: entries whose proto is above 255
 * cannot follow (the migration is refused, naming the first such entry). */
#include "bpf_defs.h"

#define PROTO_T __u8
#include "stats_v2_layout.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct stats);
} stats SEC(".maps");

SEC("xdp")
int stats_update(struct xdp_md *ctx)
{
	return count_packet(&stats, ctx);
}

char LICENSE[] SEC("license") = "GPL";

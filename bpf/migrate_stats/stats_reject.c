/* migrate_stats, v2 whose program the verifier rejects: the map value is used without the
 * NULL check after the lookup. */
#include "bpf_defs.h"

#define PROTO_T __u32
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
	__u32 key = ctx->data_end - ctx->data;
	struct stats *s = bpf_map_lookup_elem(&stats, &key);
	s->packets += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

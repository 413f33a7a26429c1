/* migrate_stats v2: see stats_v1.c. `stats_probe` reads one entry for the test: the key is
 * written into probe[0].key, the members are copied into probe[0]; XDP_PASS when found,
 * XDP_DROP when not. */
#include "bpf_defs.h"

#define PROTO_T __u32
#include "stats_v2_layout.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct stats);
} stats SEC(".maps");

struct probe {
	__u32 key;
	__u32 proto;
	__u64 bytes;
	__u64 packets;
	__u64 added;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe);
} probe SEC(".maps");

SEC("xdp")
int stats_update(struct xdp_md *ctx)
{
	return count_packet(&stats, ctx);
}

SEC("xdp")
int stats_probe(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct probe *p = bpf_map_lookup_elem(&probe, &zero);
	if (!p)
		return XDP_ABORTED;
	__u32 key = p->key;
	struct stats *s = bpf_map_lookup_elem(&stats, &key);
	if (!s)
		return XDP_DROP;
	p->proto = s->proto;
	p->bytes = s->bytes;
	p->packets = s->packets;
	p->added = s->added;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

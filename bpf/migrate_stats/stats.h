/* migrate_stats: the program both versions run. STATS_T is the version's value struct; every
 * version has `packets`, `bytes` and `proto`. The packet length is the flow id (the key). */
#ifndef MIGRATE_STATS_H
#define MIGRATE_STATS_H

static __always_inline int count_packet(void *map, struct xdp_md *ctx)
{
	__u32 key = ctx->data_end - ctx->data;
	STATS_T *s = bpf_map_lookup_elem(map, &key);
	if (s) {
		__sync_fetch_and_add(&s->packets, 1);
		__sync_fetch_and_add(&s->bytes, key);
		return XDP_PASS;
	}
	STATS_T init = {};
	init.packets = 1;
	init.bytes = key;
	init.proto = 6;
	bpf_map_update_elem(map, &key, &init, 0);
	return XDP_PASS;
}

#endif

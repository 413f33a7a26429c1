/* attach_pair: two programs in two files sharing `pair_stats`, attached at two
 * hooks of one interface: xdp_count.c (XDP) counts UDP packets to port 7777
 * and lets them pass; tc_filter.c (tcx ingress, after XDP) counts them again
 * and drops those whose first payload byte is a multiple of 3. The comparison
 * test attaches the two objects (maps shared through pins) and their linked
 * object, and expects the same counters. */
#include "bpf_defs.h"

#define ETH_HLEN 14
#define ETH_P_IP_BE 0x0008	/* htons(0x0800) on little endian */
#define IPPROTO_UDP 17
#define PAIR_PORT_BE 0x611e	/* htons(7777) on little endian */

/* pair_stats slots */
enum { SEEN_XDP = 0, SEEN_TC = 1, DROPPED_TC = 2, PAYLOAD_SUM = 3 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} pair_stats SEC(".maps") SHARED;

struct pair_pkt {
	__u8 eth[12];
	__u16 proto;
	__u8 ver_ihl;
	__u8 ip_mid[8];
	__u8 ip_proto;
	__u8 ip_rest[10];
	__u16 sport;
	__u16 dport;
	__u16 ulen;
	__u16 csum;
	__u8 first;
};

/* The packet as a UDP datagram to PAIR_PORT with at least one payload byte, or 0. */
static __always_inline struct pair_pkt *pair_match(void *data, void *data_end)
{
	struct pair_pkt *p = data;

	if ((void *)(p + 1) > data_end)
		return 0;
	if (p->proto != ETH_P_IP_BE || p->ver_ihl != 0x45 || p->ip_proto != IPPROTO_UDP ||
	    p->dport != PAIR_PORT_BE)
		return 0;
	return p;
}

static __always_inline void pair_add(__u32 slot, __u64 v)
{
	__u64 *n = bpf_map_lookup_elem(&pair_stats, &slot);

	if (n)
		__sync_fetch_and_add(n, v);
}

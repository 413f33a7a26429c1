/* attach_net: a guard that drops and counts UDP packets to port 7777 (IPv4),
 * for the attach/swap tests. Each version of the program counts into its own
 * slot of the shared `hits` (slot VERSION - 1), so after swaps under traffic
 * the slots together account for every packet dropped; everything else passes.
 * xdp_v*.c build the XDP form, tc_v*.c the tcx (ingress) form. */
#include "bpf_defs.h"

#define ETH_HLEN 14
#define ETH_P_IP_BE 0x0008	/* htons(0x0800) on little endian */
#define IPPROTO_UDP 17
#define GUARD_PORT_BE 0x611e	/* htons(7777) on little endian */

#ifndef BM_HITS_DEFINED
#define BM_HITS_DEFINED
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;
#endif

struct iphdr_min {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

struct udphdr_min {
	__u16 source;
	__u16 dest;
	__u16 len;
	__u16 check;
};

/* 1 when [data, data_end) is an IPv4 UDP packet to GUARD_PORT (no IP options). */
static __always_inline int is_guarded(void *data, void *data_end)
{
	struct iphdr_min *ip = data + ETH_HLEN;
	struct udphdr_min *udp = (void *)(ip + 1);
	__u16 *proto = data + 12;

	if ((void *)(udp + 1) > data_end)
		return 0;
	if (*proto != ETH_P_IP_BE || ip->ver_ihl != 0x45 || ip->protocol != IPPROTO_UDP)
		return 0;
	return udp->dest == GUARD_PORT_BE;
}

static __always_inline void count(void)
{
	__u32 key = VERSION - 1;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

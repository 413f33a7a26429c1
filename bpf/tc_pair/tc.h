/* tc_pair: the header both tc programs include. classify.c sorts packets into
 * classes and tail-calls the per-class action program of actions.c through
 * the shared prog array tc_jmp (slots filled from user space); both read the
 * shared configuration tc_config (written from user space) and count into
 * tc_hits. */
#include "bpf_defs.h"

#define ETH_P_IP 0x0800
#define ETH_HLEN 14
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Classes: tc_jmp slots and tc_hits slots. tc_hits[TC_HIT_TCP_BYTES] holds
 * the bytes seen by the TCP action. */
enum { TC_CLASS_OTHER = 0, TC_CLASS_UDP = 1, TC_CLASS_TCP = 2, TC_HIT_TCP_BYTES = 3 };

struct tc_config {
	__u32 enabled;		/* 0: classify.c lets everything through untouched */
	__u32 udp_action;	/* what actions.c's tc_udp returns */
	__u32 tcp_action;	/* what actions.c's tc_tcp returns */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_config);
} tc_config SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tc_jmp SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} tc_hits SEC(".maps") SHARED;

static __always_inline struct tc_config *config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tc_config, &zero);
}

static __always_inline void hit(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&tc_hits, &slot);
	if (v)
		__sync_fetch_and_add(v, n);
}

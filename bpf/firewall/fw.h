/* firewall: the header every file of the XDP firewall includes. Like a real
 * project's shared header it defines all the maps, so each of parser.c,
 * policy.c and stats.c gets its own copy of each definition (one map each
 * after bpfmerge, or shared through pins by `bpfmerge load`).
 *
 * Pipeline, one packet: parser.c's xdp_fw parses it into the per-CPU scratch
 * and tail-calls fw_progs[FW_JMP_POLICY] = policy.c's xdp_fw_policy, which
 * looks the source address up in fw_policy (rules filled from user space),
 * counts the hit and tail-calls fw_progs[FW_JMP_STATS] = stats.c's
 * xdp_fw_stats, which counts packets and bytes per verdict slot in the
 * per-CPU fw_stats and returns the verdict. */
#include "bpf_defs.h"

#define ETH_P_IP 0x0800
#define ETH_HLEN 14

/* Slots of fw_stats. */
enum { FW_SLOT_PASS = 0, FW_SLOT_DROP = 1, FW_SLOT_NOT_IP = 2, FW_SLOTS = 4 };
/* Slots of fw_progs (filled by user space). */
enum { FW_JMP_POLICY = 0, FW_JMP_STATS = 1 };

/* A rule, keyed by the IPv4 source address as it is in the packet. */
struct fw_rule {
	__u32 action;	/* XDP_PASS or XDP_DROP */
	__u32 rule_id;
	__u64 hits;	/* packets that matched, counted by policy.c */
};

struct fw_counters {
	__u64 packets;
	__u64 bytes;
};

/* What the parser found, handed along the tail calls (which stay on one CPU). */
struct fw_scratch {
	__u32 saddr;
	__u32 len;
	__u32 slot;
	__u32 verdict;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct fw_rule);
} fw_policy SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_SLOTS);
	__type(key, __u32);
	__type(value, struct fw_counters);
} fw_stats SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_scratch);
} fw_scratch SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} fw_progs SEC(".maps") SHARED;

static __always_inline struct fw_scratch *scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&fw_scratch, &zero);
}

/* struct_ops, file 1: a TCP congestion control (struct tcp_congestion_ops)
 * whose callbacks and `.struct_ops.link` map live here. It shares `cc_stats`
 * with trace.c's tracing program. The struct below names only the members it
 * sets; libbpf matches them by name against the kernel's BTF. */
#include "bpf_defs.h"

struct sock;

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	char name[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} cc_stats SEC(".maps") SHARED;

static __always_inline void cc_count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&cc_stats, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Callbacks take the kernel's arguments as an array of u64 (the BPF_PROG
 * convention). */
SEC("struct_ops/bm_ssthresh")
__u32 bm_ssthresh(unsigned long long *ctx)
{
	cc_count(1);
	return 2;
}

SEC("struct_ops/bm_cong_avoid")
void bm_cong_avoid(unsigned long long *ctx)
{
	cc_count(2);
}

SEC("struct_ops/bm_undo_cwnd")
__u32 bm_undo_cwnd(unsigned long long *ctx)
{
	return 2;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops bpfmerge_cc = {
	.ssthresh = (void *)bm_ssthresh,
	.cong_avoid = (void *)bm_cong_avoid,
	.undo_cwnd = (void *)bm_undo_cwnd,
	.name = "bpfmerge_cc",
};

char LICENSE[] SEC("license") = "GPL";

/* attach_struct_ops: a TCP congestion control, `bpfmerge_cc`, registered
 * through a struct_ops link (.struct_ops.link). It behaves like a fixed
 * window (cong_avoid leaves cwnd alone) and counts the connections that start
 * with it (init) into hits[VERSION - 1], so a reload shows which build is
 * registered. Only the members used are declared; libbpf matches them by name
 * with the kernel's struct tcp_congestion_ops. */
#include "bpf_defs.h"

#ifndef CC_NAME
#define CC_NAME "bpfmerge_cc"
#endif

struct sock;

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
};

#ifndef BM_HITS_DEFINED
#define BM_HITS_DEFINED
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;
#endif

/* Struct_ops programs take the traced function's arguments as an array of u64. */
SEC("struct_ops/bm_init")
void bm_init(__u64 *ctx)
{
	__u32 key = VERSION - 1;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("struct_ops/bm_ssthresh")
__u32 bm_ssthresh(__u64 *ctx)
{
	return 10;
}

SEC("struct_ops/bm_cong_avoid")
void bm_cong_avoid(__u64 *ctx)
{
}

SEC("struct_ops/bm_undo_cwnd")
__u32 bm_undo_cwnd(__u64 *ctx)
{
	return 10;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops bm_cc = {
	.init = (void *)bm_init,
	.ssthresh = (void *)bm_ssthresh,
	.cong_avoid = (void *)bm_cong_avoid,
	.undo_cwnd = (void *)bm_undo_cwnd,
	.name = CC_NAME,
};

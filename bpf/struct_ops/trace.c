/* struct_ops, file 2: a tracing program (raw tracepoint, so BPF_PROG_TEST_RUN
 * can run it) sharing `cc_stats` with cc.c's congestion control: it adds its
 * args[0] to cc_stats[0]. */
#include "bpf_defs.h"

struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} cc_stats SEC(".maps") SHARED;

SEC("raw_tp/tcp_probe")
int trace_cc(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&cc_stats, &k);

	if (v)
		__sync_fetch_and_add(v, ctx->args[0]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

/* extern_types, file 1: defines the variable `counter` (next to `after`, so a wider read of
 * counter would take after's bytes too) and the global function `combine`; use.c declares
 * both `extern` with the same types, as libbpf's linker requires (extern_types_bad/ holds
 * the declarations it refuses). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

int counter = 7;
int after = -1;

__noinline long combine(long a, long b)
{
	return a * 10 + b;
}

SEC("xdp")
int xdp_et_def(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&et_out, &k);

	if (v)
		*v += counter;
	return after == -1 ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

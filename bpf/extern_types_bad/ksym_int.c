/* extern_types_bad: ksym_struct.c's `.ksyms` extern declared as an int. */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern const int runqueues __ksym;

SEC("xdp")
int xdp_etb_ks2(struct xdp_md *ctx)
{
	return runqueues ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

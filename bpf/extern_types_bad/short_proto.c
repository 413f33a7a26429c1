/* extern_types_bad: declares extern_types/def.c's `long combine(long, long)` with one
 * `int` parameter. libbpf's linker refuses it (numbers of parameters 2 and 1). */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern int combine(int a);

SEC("xdp")
int xdp_etb_proto(struct xdp_md *ctx)
{
	return combine(3) == 3 ? XDP_TX : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

/* extern_types_bad: declares extern_types/def.c's function `combine` as a variable.
 * libbpf's linker refuses it (BTF kinds func and var). */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern int combine;

SEC("xdp")
int xdp_etb_var(struct xdp_md *ctx)
{
	return combine == 3 ? XDP_TX : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

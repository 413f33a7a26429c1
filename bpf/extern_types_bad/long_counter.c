/* extern_types_bad: declares extern_types/def.c's `int counter` as `long`: an 8-byte
 * read would take def.c's `after` too. libbpf's linker refuses it (int sizes 4 and 8). */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern long counter;

SEC("xdp")
int xdp_etb_long(struct xdp_md *ctx)
{
	return counter == 7 ? XDP_TX : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

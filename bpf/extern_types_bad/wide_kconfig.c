/* extern_types_bad: the `.kconfig` extern LINUX_KERNEL_VERSION as 8 bytes, where
 * extern_types/use.c and kc.c declare 4: one extern cannot be both. libbpf's linker refuses
 * it (int sizes 4 and 8). */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern unsigned long long LINUX_KERNEL_VERSION __kconfig;

SEC("xdp")
int xdp_etb_kc(struct xdp_md *ctx)
{
	return LINUX_KERNEL_VERSION ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

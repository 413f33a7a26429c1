/* globals, file 1 (link it first or second: the result must not change).
 * - scale() is a global function defined in lib.c, called from here (extern).
 * - mode is a __weak global variable here (1) and a strong one in lib.c (7):
 *   the strong one wins, so both files' programs read 7.
 * - stats is an extern map declaration; lib.c holds its definition.
 * - LINUX_KERNEL_VERSION is a .kconfig extern in both files. */
#include "bpf_defs.h"

extern __u64 scale(__u64 x);

int mode __weak = 1;

/* A .kconfig extern, also declared in lib.c: one extern after linking, filled
 * in by libbpf at load time. */
extern __u32 LINUX_KERNEL_VERSION __kconfig;

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stats __attribute__((section(".maps")));

static __always_inline void put(__u32 k, __u64 v)
{
	__u64 *slot = bpf_map_lookup_elem(&stats, &k);
	if (slot)
		*slot = v;
}

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;

	put(0, scale(len));
	put(1, mode);
	put(4, LINUX_KERNEL_VERSION);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

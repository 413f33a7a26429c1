/* globals, file 2: the definitions main.c refers to. */
#include "bpf_defs.h"

int mode = 7;

extern __u32 LINUX_KERNEL_VERSION __kconfig;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* A global (non-static) function: the verifier checks it on its own, and
 * main.c calls it through an extern declaration. */
__noinline __u64 scale(__u64 x)
{
	return x * 3 + mode;
}

static __always_inline void put(__u32 k, __u64 v)
{
	__u64 *slot = bpf_map_lookup_elem(&stats, &k);
	if (slot)
		*slot = v;
}

SEC("xdp")
int xdp_lib(struct xdp_md *ctx)
{
	put(2, scale(1));
	put(3, mode);
	put(5, LINUX_KERNEL_VERSION);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

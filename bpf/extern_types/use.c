/* extern_types, file 2: def.c's counter and combine, and the `.kconfig` extern
 * LINUX_KERNEL_VERSION, declared with the types kc.c and def.c give them. */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern int counter;
extern long combine(long a, long b);
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("xdp")
int xdp_et_use(struct xdp_md *ctx)
{
	__u32 k1 = 1, k2 = 2;
	__u64 *v1 = bpf_map_lookup_elem(&et_out, &k1);
	__u64 *v2 = bpf_map_lookup_elem(&et_out, &k2);

	if (v1)
		*v1 = combine(counter, 3);
	if (v2)
		*v2 = LINUX_KERNEL_VERSION;
	return counter == 7 ? XDP_TX : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

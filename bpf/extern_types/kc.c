/* extern_types, file 3: the same `.kconfig` extern as use.c, of the same type (one extern in
 * the output), read into et_out[3]. */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("xdp")
int xdp_et_kc(struct xdp_md *ctx)
{
	__u32 k = 3;
	__u64 *v = bpf_map_lookup_elem(&et_out, &k);

	if (v)
		*v = LINUX_KERNEL_VERSION;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

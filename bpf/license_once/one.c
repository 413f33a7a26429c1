/* license_once, file 1: `license` and `version` under the usual names. two.c has the same
 * strings under other names (`_license`, `_version`, as older samples and the kernel
 * selftests' test_static_linked2.c write them): the output keeps file 1's, and file 2's
 * names leave no alias symbol and no BTF variable behind. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} lic_runs SEC(".maps") SHARED;

SEC("xdp")
int xdp_lic_one(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&lic_runs, &k);

	if (v)
		*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
__u32 VERSION SEC("version") = 1;

/* license_once, file 2: the same license and version strings as one.c, other names. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} lic_runs SEC(".maps") SHARED;

SEC("xdp")
int xdp_lic_two(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&lic_runs, &k);

	if (v)
		*v += 1;
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 1;

/* loader_byname: a map declared with pinning = LIBBPF_PIN_BY_NAME. libbpf on
 * its own would pin it at /sys/fs/bpf/byname_hits during load; bpfmerge pins it
 * like every other .maps map, at DIR/maps/byname_hits, after all objects load. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} byname_hits SEC(".maps");

SEC("xdp")
int xdp_byname(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&byname_hits, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* loader_reject: shares `counters` with the seed scenario, defines a map of
 * its own (`reject_extra`), and has a program the verifier refuses: it
 * dereferences a map lookup result without checking it for NULL. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} reject_extra SEC(".maps");

SEC("xdp")
int xdp_reject(struct xdp_md *ctx)
{
	__u32 key = 2;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);
	/* No NULL check: "invalid mem access 'map_value_or_null'". */
	*n += 1;
	if (bpf_map_lookup_elem(&reject_extra, &key))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

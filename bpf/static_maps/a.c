/* static_maps, file A (modelled on the kernel selftests' linked_maps1.c):
 * a static map `map_static` that b.c also defines, with another shape
 * (HASH here, ARRAY there). static means file-local: after linking each
 * file's programs use their own map. `map_same` is static in both files
 * with one definition (as from a shared header): it is one map. */
#include "bpf_defs.h"

static struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} map_static SEC(".maps");

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} map_same SEC(".maps");

/* map_static[1] = 100 (a new HASH entry), map_same[0]++. */
SEC("xdp")
int xdp_static_a(struct xdp_md *ctx)
{
	__u32 k = 1, zero = 0;
	__u64 v = 100, *same;

	bpf_map_update_elem(&map_static, &k, &v, BPF_ANY);
	same = bpf_map_lookup_elem(&map_same, &zero);
	if (same)
		__sync_fetch_and_add(same, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

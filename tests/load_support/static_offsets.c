/* tests/load.rs: static map definitions at non-zero offsets of `.maps`, which clang reaches
 * through the `.maps` section symbol plus an addend (in code and in `.values`), next to a
 * global one; and a static map-in-map initialised with a static inner map.
 * Rebuild (from the repository root):
 *   clang -O2 -g -target bpf -Ibpf/include -c tests/load_support/static_offsets.c \
 *         -o tests/load_support/static_offsets.o
 *   clang-19 -O2 -g -target bpf -Ibpf/include -c tests/load_support/static_offsets.c \
 *         -o tests/load_support/clang19/static_offsets.o
 */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} glob SEC(".maps");

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} first SEC(".maps");

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
};

static struct inner_def second SEC(".maps");

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_def);
} nest SEC(".maps") = {
	.values = { [1] = &second },
};

static __always_inline void add(void *map, __u64 n)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(map, &zero);

	if (v)
		__sync_fetch_and_add(v, n);
}

/* glob[0] += 1, first[0] += 2, second[0] += 3 directly, nest[1][0] += 4 (= second). */
SEC("xdp")
int xdp_offsets(struct xdp_md *ctx)
{
	__u32 one = 1;
	void *inner;

	add(&glob, 1);
	add(&first, 2);
	add(&second, 3);
	inner = bpf_map_lookup_elem(&nest, &one);
	if (!inner)
		return XDP_DROP;
	add(inner, 4);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

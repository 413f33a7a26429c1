/* statics, file B: the same names as a.c with different bodies and values.
 * Slots 4..7 of the shared map `results`. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps") SHARED;

/* A static map definition. Unlike static variables and functions, same-named
 * maps are merged even when static, and bpfmerge emits the survivor as a
 * global. (libbpf's linker keeps both as LOCAL symbols and libbpf then refuses
 * the object: "unsupported map linkage static"; so the -DSHARED_WEAK build
 * makes it a weak global instead.) */
#ifdef SHARED_WEAK
#define MAP_STATIC __weak
#else
#define MAP_STATIC static
#endif
MAP_STATIC struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} static_hits SEC(".maps");

static volatile const __u64 tag = 0xB0;	/* .rodata */
static __u64 base = 2000;		/* .data */
static __u64 runs;			/* .bss */

static __noinline __u64 pick(__u64 x)
{
	return 20 + x;
}

static __noinline void put(__u32 k, __u64 v)
{
	__u32 key = k + 4;
	__u64 *slot = bpf_map_lookup_elem(&results, &key);
	if (slot)
		*slot = v;
}

SEC("xdp")
int xdp_b(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;

	__u32 zero = 0;
	__u64 *hits = bpf_map_lookup_elem(&static_hits, &zero);

	if (hits)
		__sync_fetch_and_add(hits, 10);
	runs += 1;
	base += 3;
	put(0, pick(len));
	put(1, tag);
	put(2, runs);
	put(3, base);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

/* many, file b: hmap, lru, rb, outer. */
#define WANT_HMAP
#define WANT_LRU
#define WANT_RB
#define WANT_OUTER
#include "maps.h"

SEC("xdp")
int xdp_b(struct xdp_md *ctx)
{
	__u32 one = 1, zero = 0;
	__u64 rec = 0xB;
	__u64 *h;
	void *inner;

	add(&hmap, 1, 10);
	/* lru[7] = hmap[1] as seen now (1 + 10 when xdp_a ran once before). */
	h = bpf_map_lookup_elem(&hmap, &one);
	if (h)
		add(&lru, 7, *h);
	bpf_ringbuf_output(&rb, &rec, sizeof(rec), 0);
	inner = bpf_map_lookup_elem(&outer, &zero);
	if (!inner)
		return XDP_DROP;
	add(inner, 2, 5);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

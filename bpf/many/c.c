/* many, file c: arr, pcpu, lru, rb, outer; a tc program. */
#define WANT_ARR
#define WANT_PCPU
#define WANT_LRU
#define WANT_RB
#define WANT_OUTER
#include "maps.h"

SEC("tc")
int tc_c(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 rec = 0xC;
	void *inner;

	add(&arr, 0, 100);
	add(&pcpu, 0, 100);
	add(&lru, 7, 1000);
	bpf_ringbuf_output(&rb, &rec, sizeof(rec), 0);
	inner = bpf_map_lookup_elem(&outer, &zero);
	if (!inner)
		return TC_ACT_SHOT;
	add(inner, 3, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

/* many, file a: hmap, arr, pcpu. */
#define WANT_HMAP
#define WANT_ARR
#define WANT_PCPU
#include "maps.h"

SEC("xdp")
int xdp_a(struct xdp_md *ctx)
{
	add(&hmap, 1, 1);
	add(&arr, 0, 1);
	add(&pcpu, 0, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

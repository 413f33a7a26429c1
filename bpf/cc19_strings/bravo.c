/* cc19_strings, file 2: picks "bravo"[3] = 'v' (118) into picked[1]. */
#include "strings.h"

__u32 bravo_index = 3;

SEC("xdp")
int xdp_bravo(struct xdp_md *ctx)
{
	return pick(1, "bravo", 5, &bravo_index);
}

char LICENSE[] SEC("license") = "GPL";

/* cc19_strings, file 1: picks "alpha"[1] = 'l' (108) into picked[0]. */
#include "strings.h"

__u32 alpha_index = 1;

SEC("xdp")
int xdp_alpha(struct xdp_md *ctx)
{
	return pick(0, "alpha", 5, &alpha_index);
}

char LICENSE[] SEC("license") = "GPL";

/* weak_promote_relink: another strong `policy` (returning its argument), for relinking
 * weak_promote's linked object: refused there (its `policy` is GLOBAL), while linked with
 * weak_promote/lib.c's objects directly it beats the weak one. */
#include "bpf_defs.h"

__noinline int policy(int x)
{
	return x;
}

SEC("xdp")
int xdp_wp_other(struct xdp_md *ctx)
{
	return policy(3);
}

char LICENSE[] SEC("license") = "GPL";

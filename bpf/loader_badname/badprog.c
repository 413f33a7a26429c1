/* loader_badname: a program whose symbol name (set with an asm label) would
 * escape DIR/progs if used as a pin name. The loader must refuse it. */
#include "bpf_defs.h"

SEC("xdp")
int xdp_badprog(struct xdp_md *ctx) __asm__("../../escaped_prog");

int xdp_badprog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

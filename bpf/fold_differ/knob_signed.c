/* fold_differ: a strong definition of fold/shared.h's `knob` that does not
 * fold with it: the knob's type differs (__s64, fold/shared.h has __u64); the bytes agree.
 * Linking it with fold/main is an error naming that difference. */
#include "bpf_defs.h"

const volatile __s64 knob = 1;

SEC("xdp")
int xdp_knob_signed(struct xdp_md *ctx)
{
	return knob ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

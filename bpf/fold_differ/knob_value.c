/* fold_differ: a strong definition of fold/shared.h's `knob` that does not
 * fold with it: the knob's initial value differs (2, fold/shared.h has 1).
 * Linking it with fold/main is an error naming that difference. */
#include "bpf_defs.h"

const volatile __u64 knob = 2;

SEC("xdp")
int xdp_knob_value(struct xdp_md *ctx)
{
	return knob ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

/* fold_differ: a strong definition of fold/shared.h's `knob` that does not
 * fold with it: the knob is not const, so it lives in .data, not .rodata.
 * Linking it with fold/main is an error naming that difference. */
#include "bpf_defs.h"

__u64 knob = 1;

SEC("xdp")
int xdp_knob_data(struct xdp_md *ctx)
{
	return knob ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

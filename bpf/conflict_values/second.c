/* conflict_values: slot 0 of the prog array jmp is initialised to
 * prog_second here and to prog_first in first.c. */
#include "bpf_defs.h"

int prog_second(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") SHARED = {
	.values = { [0] = (void *)&prog_second },
};

SEC("xdp")
int prog_second(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

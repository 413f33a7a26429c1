/* fold_differ: fold_sample/sample.h with another print format of the same length: the copies of
 * tp_xdp_exception have the same instructions but reach file-local .rodata
 * with other bytes, so they do not fold with fold_sample/basic.c's. */
#define SAMPLE_FMT "xdp_exception: ERR %llu\n"
#include "bpf_defs.h"
#include "../fold_sample/sample.h"

SEC("xdp")
int xdp_sample_fmt(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* extern_types_bad: a typed `.ksyms` extern of a struct type; ksym_int.c declares the same
 * kernel symbol as an int. libbpf's linker refuses the pair (BTF kinds struct and int). */
#include "bpf_defs.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} et_out SEC(".maps");

struct rq_like {
	int nr_running;
	long clock;
};

extern const struct rq_like runqueues __ksym;

SEC("xdp")
int xdp_etb_ks1(struct xdp_md *ctx)
{
	return runqueues.nr_running ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

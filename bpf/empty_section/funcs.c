/* empty_section, file 1 (modelled on the selftests' linked_funcs1.c in the
 * BPF development tree): a naked function with an empty body in a section of
 * its own. The section has no instructions, but .BTF.ext still carries a
 * func_info record for it (at instruction offset 0 of an empty section).
 * libbpf's linker copies that record; its loader skips empty code sections.
 * The file's real program must link, load and run. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps") SHARED;

SEC(".empty_section") __attribute__((naked)) void empty_func(void)
{
}

/* counts[0] += 1; returns XDP_PASS. */
SEC("xdp")
int xdp_funcs(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* loader_adjust: a ring buffer whose size (5000) is not a page-size power of
 * two; libbpf rounds it up (to 8192 with 4 KiB pages) before creating it.
 * ring_page.c declares the rounded size; both must share one pinned map. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 5000);
} events SEC(".maps");

SEC("xdp")
int xdp_ring_odd(struct xdp_md *ctx)
{
	__u64 v = 1;
	bpf_ringbuf_output(&events, &v, sizeof(v), 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

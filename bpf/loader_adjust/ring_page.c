/* loader_adjust: the ring buffer of ring_odd.c declared with the size libbpf
 * rounds 5000 to (8192 with 4 KiB pages). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8192);
} events SEC(".maps");

SEC("xdp")
int xdp_ring_page(struct xdp_md *ctx)
{
	__u64 v = 2;
	bpf_ringbuf_output(&events, &v, sizeof(v), 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

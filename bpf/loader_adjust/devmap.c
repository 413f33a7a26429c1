/* loader_adjust: a device map. The kernel reports BPF_F_RDONLY_PROG in the
 * flags of every devmap although it was not asked for at creation. */
#include "bpf_defs.h"

#define BPF_MAP_TYPE_DEVMAP 14

static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

SEC("xdp")
int xdp_devmap(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_ports, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";

/* firewall, file 3: counts packets and bytes per verdict slot and returns the
 * verdict the earlier stages left in the scratch. */
#include "fw.h"

SEC("xdp")
int xdp_fw_stats(struct xdp_md *ctx)
{
	struct fw_scratch *s = scratch();
	struct fw_counters *c;
	__u32 slot;

	if (!s)
		return XDP_ABORTED;
	slot = s->slot;
	c = bpf_map_lookup_elem(&fw_stats, &slot);
	if (c) {
		c->packets += 1;
		c->bytes += s->len;
	}
	return s->verdict;
}

char LICENSE[] SEC("license") = "GPL";

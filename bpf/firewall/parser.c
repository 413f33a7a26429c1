/* firewall, file 1: the XDP entry point. Parses Ethernet + IPv4, fills the
 * scratch and hands over to the policy (non-IPv4 goes straight to stats). */
#include "fw.h"

SEC("xdp")
int xdp_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fw_scratch *s = scratch();
	__u8 *eth = data;

	if (!s)
		return XDP_ABORTED;
	s->len = data_end - data;
	s->saddr = 0;
	if (data + ETH_HLEN + 20 > data_end ||
	    ((eth[12] << 8) | eth[13]) != ETH_P_IP) {
		s->slot = FW_SLOT_NOT_IP;
		s->verdict = XDP_PASS;
		bpf_tail_call(ctx, &fw_progs, FW_JMP_STATS);
		return XDP_ABORTED;
	}
	s->saddr = *(__u32 *)(eth + ETH_HLEN + 12);
	bpf_tail_call(ctx, &fw_progs, FW_JMP_POLICY);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

/* firewall, file 2: the policy. A rule for the source address decides (and
 * counts its hit); without a rule the packet passes. */
#include "fw.h"

SEC("xdp")
int xdp_fw_policy(struct xdp_md *ctx)
{
	struct fw_scratch *s = scratch();
	struct fw_rule *rule;

	if (!s)
		return XDP_ABORTED;
	rule = bpf_map_lookup_elem(&fw_policy, &s->saddr);
	if (rule) {
		__sync_fetch_and_add(&rule->hits, 1);
		s->verdict = rule->action;
	} else {
		s->verdict = XDP_PASS;
	}
	s->slot = s->verdict == XDP_DROP ? FW_SLOT_DROP : FW_SLOT_PASS;
	bpf_tail_call(ctx, &fw_progs, FW_JMP_STATS);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

/* tc_pair, file 2: the per-class actions, reached through tc_jmp. Their
 * verdicts come from the shared configuration. */
#include "tc.h"

SEC("tc")
int tc_udp(struct __sk_buff *skb)
{
	struct tc_config *cfg = config();

	return cfg ? cfg->udp_action : TC_ACT_SHOT;
}

SEC("tc")
int tc_tcp(struct __sk_buff *skb)
{
	struct tc_config *cfg = config();

	hit(TC_HIT_TCP_BYTES, skb->len);
	return cfg ? cfg->tcp_action : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";

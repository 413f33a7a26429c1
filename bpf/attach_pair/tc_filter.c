/* attach_pair, file 2: tcx ingress counts (SEEN_TC), sums the first payload
 * bytes (PAYLOAD_SUM) and drops the packets whose first byte is a multiple of
 * 3 (DROPPED_TC). */
#include "pair.h"

SEC("tcx/ingress")
int tc_filter(struct __sk_buff *skb)
{
	struct pair_pkt *p = pair_match((void *)(long)skb->data, (void *)(long)skb->data_end);

	if (!p)
		return TC_ACT_OK;
	pair_add(SEEN_TC, 1);
	pair_add(PAYLOAD_SUM, p->first);
	if (p->first % 3 == 0) {
		pair_add(DROPPED_TC, 1);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

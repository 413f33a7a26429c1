/* tc_pair, file 1: the classifier attached to the interface. Counts each
 * class and tail-calls tc_jmp[class]; a class without a program (or a
 * disabled configuration) gets TC_ACT_OK. */
#include "tc.h"

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct tc_config *cfg = config();
	__u8 *eth = data;
	__u32 class = TC_CLASS_OTHER;

	if (!cfg || !cfg->enabled)
		return TC_ACT_OK;
	if (data + ETH_HLEN + 20 <= data_end && ((eth[12] << 8) | eth[13]) == ETH_P_IP) {
		__u8 proto = eth[ETH_HLEN + 9];
		if (proto == IPPROTO_UDP)
			class = TC_CLASS_UDP;
		else if (proto == IPPROTO_TCP)
			class = TC_CLASS_TCP;
	}
	hit(class, 1);
	bpf_tail_call(skb, &tc_jmp, class);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

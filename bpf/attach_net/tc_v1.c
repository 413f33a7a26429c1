/* attach_net: version 1 of the tcx ingress guard (counts into hits[0]). */
#define VERSION 1
#include "guard.h"

SEC("tcx/ingress")
int tc_guard(struct __sk_buff *skb)
{
	if (!is_guarded((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	count();
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";

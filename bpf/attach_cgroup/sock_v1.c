/* attach_cgroup: version 1 (counts into hits[0]). */
#define VERSION 1
#include "sock.h"

SEC("cgroup/sock_create")
int on_sock(struct bpf_sock *ctx)
{
	return count_sock();
}

char LICENSE[] SEC("license") = "GPL";

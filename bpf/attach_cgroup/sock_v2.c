/* attach_cgroup: version 2 (counts into hits[1]). */
#define VERSION 2
#include "sock.h"

SEC("cgroup/sock_create")
int on_sock(struct bpf_sock *ctx)
{
	return count_sock();
}

char LICENSE[] SEC("license") = "GPL";

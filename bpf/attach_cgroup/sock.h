/* attach_cgroup: counts the sockets created in a cgroup (cgroup/sock_create)
 * and lets every one through. Version VERSION counts into hits[VERSION - 1],
 * so a reload shows which build saw which socket. */
#include "bpf_defs.h"

struct bpf_sock;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;

static __always_inline int count_sock(void)
{
	__u32 key = VERSION - 1;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 1;
}

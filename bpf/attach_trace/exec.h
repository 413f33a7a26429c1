/* attach_trace: counts execs of one command (its comm, written by the test into
 * `want`) from the sched_process_exec tracepoint. Version VERSION counts into
 * hits[VERSION - 1], so a reload shows which build saw which exec. */
#include "bpf_defs.h"

static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;

struct comm {
	char name[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct comm);
} want SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps") SHARED;

static __always_inline int wanted(void)
{
	struct comm now = {};
	__u32 zero = 0;
	struct comm *w = bpf_map_lookup_elem(&want, &zero);

	if (!w || !w->name[0])
		return 0;
	bpf_get_current_comm(now.name, sizeof(now.name));
	for (int i = 0; i < 16; i++) {
		if (now.name[i] != w->name[i])
			return 0;
		if (!now.name[i])
			break;
	}
	return 1;
}

static __always_inline int count_exec(void)
{
	__u32 key = VERSION - 1;
	__u64 *n;

	if (!wanted())
		return 0;
	n = bpf_map_lookup_elem(&hits, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

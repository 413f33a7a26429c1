/* migrate_trace: counts execs of one command (its comm, written by the test into `want`)
 * from the sched_process_exec tracepoint into hits[VERSION - 1]. v1 has HITS = 4 slots, v2
 * has 8: `load --attach --migrate` carries the counts into the grown map while the
 * tracepoint link is replaced. */
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
} want SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HITS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct comm now = {};
	__u32 zero = 0, key = VERSION - 1;
	struct comm *w = bpf_map_lookup_elem(&want, &zero);
	__u64 *n;

	if (!w || !w->name[0])
		return 0;
	bpf_get_current_comm(now.name, sizeof(now.name));
	for (int i = 0; i < 16; i++) {
		if (now.name[i] != w->name[i])
			return 0;
		if (!now.name[i])
			break;
	}
	n = bpf_map_lookup_elem(&hits, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

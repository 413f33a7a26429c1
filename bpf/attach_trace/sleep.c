/* attach_trace: fentry on do_nanosleep, counted for one thread only (its id,
 * written by the test into `want_tid`), into hits[0]. A tracing link: attached
 * by libbpf's auto-attach from the section name. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} want_tid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sleeps SEC(".maps");

SEC("fentry/do_nanosleep")
int on_sleep(__u64 *ctx)
{
	__u32 zero = 0;
	__u32 *want = bpf_map_lookup_elem(&want_tid, &zero);
	__u64 *n;

	if (!want || *want != (__u32)bpf_get_current_pid_tgid())
		return 0;
	n = bpf_map_lookup_elem(&sleeps, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

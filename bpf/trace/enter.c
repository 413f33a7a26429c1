/* trace, file 1: syscall entry. Creates or updates the process's state; an
 * exit_group drops it (the process is going away). */
#include "trace.h"

SEC("raw_tp/sys_enter")
int trace_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = current_tgid();
	__u64 id = ctx->args[1];
	struct pid_state *st;

	if (id == SYS_EXIT_GROUP) {
		bpf_map_delete_elem(&pid_states, &tgid);
		return 0;
	}
	st = bpf_map_lookup_elem(&pid_states, &tgid);
	if (!st) {
		struct pid_state fresh = { .last_id = id, .enters = 1 };
		bpf_map_update_elem(&pid_states, &tgid, &fresh, BPF_NOEXIST);
		return 0;
	}
	st->last_id = id;
	__sync_fetch_and_add(&st->enters, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

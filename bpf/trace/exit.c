/* trace, file 2: syscall exit. Completes the state enter.c created and emits
 * one event, (syscall id << 32) | (u32)return value; returns 1 (and emits
 * nothing) for a process enter.c has no state for. */
#include "trace.h"

SEC("raw_tp/sys_exit")
int trace_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = current_tgid();
	__u64 ret = ctx->args[1];
	struct pid_state *st = bpf_map_lookup_elem(&pid_states, &tgid);
	__u64 *ev;

	if (!st)
		return 1;
	__sync_fetch_and_add(&st->exits, 1);
	__sync_fetch_and_add(&st->ret_sum, ret);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		*ev = (st->last_id << 32) | (__u32)ret;
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

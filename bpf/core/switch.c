/* core, file 2: a BTF tracepoint (load-and-verify only: tp_btf programs do
 * not run under BPF_PROG_TEST_RUN) and a raw tracepoint that reads what
 * enter.c's program wrote into the shared core_stats map. */
#include "core.h"

/* sched_switch(bool preempt, struct task_struct *prev,
 *              struct task_struct *next, unsigned int prev_state) */
SEC("tp_btf/sched_switch")
int tp_switch(__u64 *ctx)
{
	struct task_struct *next = (struct task_struct *)ctx[2];

	/* A direct, BTF-checked CO-RE load (no probe_read). */
	put(3, next->pid);
	put(4, get(4) + 1);
	return 0;
}

SEC("raw_tp/sys_exit")
int rawtp_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	pid_t pid = 0;

	CORE_READ_INTO(&pid, t, pid);
	put(5, get(2) * 10);		/* enter.c's run count, times 10 */
	put(6, pid);			/* the running thread's id */
	put(7, CORE_FIELD_EXISTS(t, tgid) * 10 +
	       CORE_FIELD_EXISTS((struct task_struct___nope *)t, no_such_field));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

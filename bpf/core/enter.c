/* core, file 1: a raw tracepoint program that BPF_PROG_TEST_RUN can run with
 * a context of u64 arguments. It reads the current task's tgid through a
 * CO-RE relocated offset; under test_run the current task is the test's own
 * thread, so core_stats[0] must equal the test process id. */
#include "core.h"

SEC("raw_tp/sys_enter")
int rawtp_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	pid_t tgid = 0;

	CORE_READ_INTO(&tgid, t, tgid);
	put(0, tgid);
	put(1, ctx->args[1]);		/* the syscall id argument */
	put(2, get(2) + 1);		/* runs of this program */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

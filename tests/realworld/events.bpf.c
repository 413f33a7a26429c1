/* The attachable programs of the tool: a tp_btf program that sends an event per exec through
 * a ring buffer (CO-RE field reads, kfuncs, __kconfig externs, a static subprogram, a global
 * subprogram of stats.bpf.c) and a raw tracepoint program on syscall entry. */
#include "vmlinux.h"
#include "rw.h"
#include "tool.h"

const volatile int targ_tgid = 0;      /* .rodata knobs, set before load */
const volatile bool trace_syscalls = true;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

extern __u64 total_events;             /* defined (.bss) in stats.bpf.c */
extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static __noinline int emit(struct task_struct *t, __u32 kind)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = t->tgid;
	e->ppid = task_ppid(t);
	e->ts = bpf_ktime_get_ns();
	e->kind = kind;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("tp_btf/sched_process_exec")
int handle_exec(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0], *t;

	if (targ_tgid && p->tgid != targ_tgid)
		return 0;
	if (LINUX_KERNEL_VERSION == 0 || !CONFIG_BPF_SYSCALL)
		return 0;
	t = bpf_task_acquire(p);
	if (!t)
		return 0;
	emit(t, KIND_EXEC);
	bpf_task_release(t);
	count_event(KIND_EXEC, 1);
	return 0;
}

/* args[1] is the syscall number; a test run passes its own. Weight: its low 3 bits. */
SEC("raw_tp/sys_enter")
int handle_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (!trace_syscalls)
		return 0;
	total_events++;
	return count_event(KIND_SYSCALL, (__u32)ctx->args[1] & 7) < 0;
}

/* The header of a libbpf-tools-style tool split into two BPF files: events.bpf.c (the
 * programs a user attaches) and stats.bpf.c (global subprograms, the counters map, global
 * data), linked into one object. */
#define KIND_EXEC 1
#define KIND_SYSCALL 2
#define KIND_TEST 3

/* One ring buffer record per exec. */
struct event {
	__u32 pid;
	__u32 ppid;
	__u64 ts;
	__u32 kind;
	char comm[16];
};

/* stats.bpf.c: the parent's tgid of a task (CO-RE reads; the argument tagged arg:trusted). */
extern int task_ppid(struct task_struct *t __arg_trusted);
/* stats.bpf.c: counts[kind] += weight * loop_weight, summed by a bpf_loop callback. */
extern int count_event(__u32 kind, __u32 weight);

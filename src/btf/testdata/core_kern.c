/* Test input for src/btf: CO-RE relocations against the running kernel's own types, with minimal
 * local definitions (no vmlinux.h): libbpf resolves them by name when the object is loaded. */
#include "bpf_defs.h"

struct mm_struct {
	unsigned long total_vm;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

struct pt_regs;

static long (*probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static __u64 (*get_current_task)(void) = (void *)35;

static __noinline int tgid_of(struct task_struct *t)
{
	int pid = 0;
	probe_read_kernel(&pid, sizeof(pid), &t->tgid);
	return pid;
}

SEC("kprobe/do_nanosleep")
int core_probe(struct pt_regs *ctx)
{
	struct task_struct *t = (void *)get_current_task();
	struct mm_struct *mm = 0;
	unsigned long vm = 0;
	probe_read_kernel(&mm, sizeof(mm), &t->mm);
	if (mm)
		probe_read_kernel(&vm, sizeof(vm), &mm->total_vm);
	return tgid_of(t) + (vm > 0);
}

char LICENSE[] SEC("license") = "GPL";

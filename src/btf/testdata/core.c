/* Test input for src/btf: CO-RE relocations, several functions (func_info), a bitfield, an
 * enum64, a float, decl/type tags. */
#include "bpf_defs.h"

#define __pai __attribute__((preserve_access_index))
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

struct task {
	int pid;
	unsigned int flags : 3, mode : 5;
	struct task *parent;
	char comm[16];
} __pai;

enum big { BIG_A = 1, BIG_B = 0x100000000ULL };

struct stats {
	double avg;
	enum big b;
	int __ttag("user") *uptr;
} __tag("stats_tag");

struct stats stats SEC(".data");

static long (*probe_read)(void *dst, __u32 size, const void *src) = (void *)113;

static __noinline int get_pid(struct task *t) __tag("fn_tag")
{
	int pid = 0;
	probe_read(&pid, sizeof(pid), &t->parent->pid);
	return pid;
}

SEC("kprobe/x")
int prog(struct task *t)
{
	unsigned int f = t->flags;
	return get_pid(t) + f + (int)__builtin_preserve_field_info(t->mode, 0);
}

SEC("kprobe/y")
int prog2(struct task *t)
{
	return get_pid(t->parent);
}

char LICENSE[] SEC("license") = "GPL";

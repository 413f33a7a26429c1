/* The tool's library file: the counters map, global data in .bss, .rodata and a named .data
 * section, global subprograms called from events.bpf.c, a bpf_loop callback. */
#include "vmlinux.h"
#include "rw.h"
#include "tool.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

__u64 total_events = 0;                    /* .bss */
__u64 loops_done SEC(".data.loops") = 7;   /* a named .data section */
const volatile __u32 loop_weight = 3;      /* .rodata */

struct loop_ctx {
	__u32 kind;
	__u64 sum;
};

static int add_weight(__u32 i, void *data)
{
	struct loop_ctx *c = data;

	c->sum += loop_weight;
	return 0;
}

__noinline int task_ppid(struct task_struct *t __arg_trusted)
{
	struct task_struct *parent;
	int ppid = 0;

	if (!t)
		return 0;
	READ_KERN(parent, t->real_parent);
	READ_KERN(ppid, parent->tgid);
	return ppid;
}

/* counts[kind] += weight * loop_weight (weight rounds of the callback); loops_done++. */
__noinline int count_event(__u32 kind, __u32 weight)
{
	struct loop_ctx c = { .kind = kind, .sum = 0 };
	__u64 *v, init;

	bpf_loop(weight, add_weight, &c, 0);
	loops_done++;
	v = bpf_map_lookup_elem(&counts, &kind);
	if (v) {
		__sync_fetch_and_add(v, c.sum);
		return 0;
	}
	init = c.sum;
	return bpf_map_update_elem(&counts, &kind, &init, BPF_ANY);
}

/* A test entry point: total_events += args[0]; count_event(KIND_TEST, args[0] + 1). */
SEC("raw_tp/task_rename")
int test_rename(unsigned long long *ctx)
{
	int a = (int)ctx[0];

	total_events += a;
	return count_event(KIND_TEST, a + 1);
}

char LICENSE[] SEC("license") = "GPL";

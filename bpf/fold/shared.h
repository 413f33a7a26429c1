/* fold: what a header included by main.c, tool.c and fold_differ/differ.c defines, not
 * static: a map, a `const volatile` knob (.rodata) and a global __noinline
 * subprogram. Each file compiles its own strong copy of each; the copies of
 * main.c and tool.c are identical, so bpfmerge folds them into one (fold_differ/differ.c
 * brings its own, different `scale`: an error). */
#ifndef FOLD_SHARED_H
#define FOLD_SHARED_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} fold_stats SEC(".maps");

/* Set from user space before loading (a skeleton's rodata). */
const volatile __u64 knob = 1;

#ifndef OWN_SCALE
/* fold_stats[3] counts the calls; returns 2 * x + knob. */
__noinline __u64 scale(__u64 x)
{
	__u32 k = 3;
	__u64 *n = bpf_map_lookup_elem(&fold_stats, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return x * 2 + knob;
}
#else
__u64 scale(__u64 x);
#endif

/* fold_stats[k] = v. */
static __always_inline void store(__u32 k, __u64 v)
{
	__u64 *slot = bpf_map_lookup_elem(&fold_stats, &k);

	if (slot)
		*slot = v;
}

#endif

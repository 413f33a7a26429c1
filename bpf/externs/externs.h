/* externs: what both files declare. __kconfig and __ksym externs stay externs
 * in the linked object, once per name, for libbpf to resolve at load time:
 * CONFIG_BPF_SYSCALL from the kernel config (y: the kernel runs BPF),
 * LINUX_KERNEL_VERSION from uname, and the kfuncs bpf_rcu_read_lock and
 * bpf_rcu_read_unlock from the kernel's BTF. */
#ifndef EXTERNS_H
#define EXTERNS_H

extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} ext_stats SEC(".maps") SHARED;

/* ext_stats[base + 0] = CONFIG_BPF_SYSCALL, [base + 1] = 1 once the kfuncs
 * were called, [base + 2] = LINUX_KERNEL_VERSION. */
static __always_inline void record(__u32 base)
{
	__u64 vals[3] = { CONFIG_BPF_SYSCALL, 0, LINUX_KERNEL_VERSION };

	bpf_rcu_read_lock();
	vals[1] = 1;
	bpf_rcu_read_unlock();

	for (__u32 i = 0; i < 3; i++) {
		__u32 k = base + i;
		__u64 *slot = bpf_map_lookup_elem(&ext_stats, &k);

		if (slot)
			*slot = vals[i];
	}
}

#endif

/* bpfmerge benchmark: what the CO-RE corpus needs on top of vmlinux.h (which
 * already defines the __u* types and the BPF_MAP_TYPE_* enum). */
#ifndef BPFMERGE_BENCH_CORE_DEFS_H
#define BPFMERGE_BENCH_CORE_DEFS_H

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __weak __attribute__((weak))
#define __noinline __attribute__((noinline))

#ifdef SHARED_WEAK
#define SHARED __weak
#else
#define SHARED
#endif

/* Read a kernel field through a CO-RE relocation (bpf_core_read without libbpf). */
#define CORE_READ(dst, src) \
	bpf_probe_read_kernel(&(dst), sizeof(dst), __builtin_preserve_access_index(&(src)))

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

#endif

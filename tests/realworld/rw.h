/* tests/realworld.rs: helper definitions in the style of libbpf's bpf_helpers.h, written for this
 * project (the sources are compiled against a vmlinux.h dumped from the running kernel). */
#ifndef RW_H
#define RW_H
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __noinline __attribute__((noinline))
#define __always_inline inline __attribute__((always_inline))
#define __weak __attribute__((weak))
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
/* A global subprogram argument the verifier trusts (kernel 6.8+; a BTF DECL_TAG). */
#define __arg_trusted __attribute__((btf_decl_tag("arg:trusted")))
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;
/* A CO-RE read: vmlinux.h marks its structs preserve_access_index, so the field offset is
 * relocated at load time. */
#define READ_KERN(dst, src) bpf_probe_read_kernel(&(dst), sizeof(dst), &(src))
#endif

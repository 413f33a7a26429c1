/* core: shared map and tiny CO-RE helpers (no libbpf headers here). */
#include "bpf_defs.h"
#include "vmlinux_min.h"

/* Kept here rather than in bpf_defs.h: editing that header would change every
 * fixture (DWARF 5 line tables carry an MD5 of each included file). */
static __u64 (*bpf_get_current_task)(void) = (void *)35;

/* Context of BPF_PROG_TYPE_RAW_TRACEPOINT programs (SEC("raw_tp/...")). */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

/* bpf_probe_read_kernel of src->field, with a CO-RE field-offset relocation. */
#define CORE_READ_INTO(dst, src, field) \
	bpf_probe_read_kernel((dst), sizeof(*(dst)), __builtin_preserve_access_index(&(src)->field))

/* 1 when the running kernel has the field, else 0 (BPF_FIELD_EXISTS = 2). */
#define CORE_FIELD_EXISTS(src, field) __builtin_preserve_field_info((src)->field, 2)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} core_stats SEC(".maps") SHARED;

static __always_inline void put(__u32 k, __u64 v)
{
	__u64 *slot = bpf_map_lookup_elem(&core_stats, &k);
	if (slot)
		*slot = v;
}

static __always_inline __u64 get(__u32 k)
{
	__u64 *slot = bpf_map_lookup_elem(&core_stats, &k);
	return slot ? *slot : 0;
}

/* typed_survivor, file 1: map `guarded` declared with its key and value types; the value
 * holds a bpf_spin_lock, which the kernel only allows in a map created with BTF value type
 * ids. sizes.c declares the same map with sizes only. Whatever the link order, the typed
 * definition must be the one kept, or the kernel refuses xdp_typed ("map 'guarded' has to
 * have BTF in order to use bpf_spin_lock"). */
#include "bpf_defs.h"

struct bpf_spin_lock {
	__u32 val;
};

struct guarded_val {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 total;
};

static long (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static long (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct guarded_val);
} guarded SEC(".maps");

SEC("xdp")
int xdp_typed(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct guarded_val *v = bpf_map_lookup_elem(&guarded, &k);

	if (!v)
		return XDP_ABORTED;
	bpf_spin_lock(&v->lock);
	v->total += 5;
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

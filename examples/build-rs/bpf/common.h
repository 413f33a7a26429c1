/* Shared by every BPF source of the example: minimal definitions (so the example builds
 * without libbpf's headers; with libbpf-dev installed use <bpf/bpf_helpers.h> instead) and the
 * map both programs use. Every file that includes this header gets its own definition of
 * `packets`; bpfmerge turns them into one map. */
#ifndef EXAMPLE_COMMON_H
#define EXAMPLE_COMMON_H

typedef unsigned int __u32;
typedef unsigned long long __u64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __always_inline inline __attribute__((always_inline))

enum { BPF_MAP_TYPE_ARRAY = 2 };
enum { XDP_DROP = 1, XDP_PASS = 2 };

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

/* Slot 0: packets seen by xdp_count; slot 1: packets dropped by xdp_filter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&packets, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

#endif

/* ulong_extra: a bloom filter whose map_extra (the number of hash functions, 3) is written
 * with __ulong(), the libbpf >= 1.4 form: a one-value enum as the member's type (the macro
 * here is written for this project; libbpf's bpf_helpers.h has its own). Both files include
 * this definition, so the link merges one map. */
#ifndef ULONG_EXTRA_BLOOM_H
#define ULONG_EXTRA_BLOOM_H
#include "bpf_defs.h"

#define ULONG_PASTE2(a, b) a##b
#define ULONG_PASTE(a, b) ULONG_PASTE2(a, b)
#define __ulong(name, val) enum { ULONG_PASTE(ulong_value_, __COUNTER__) = val } name

#define MAP_TYPE_BLOOM_FILTER 30

static long (*bpf_map_push_elem)(void *map, const void *value, __u64 flags) = (void *)87;
static long (*bpf_map_peek_elem)(void *map, void *value) = (void *)89;

struct {
	__uint(type, MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__ulong(map_extra, 3);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} seen_count SEC(".maps");

static __always_inline void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&seen_count, &k);

	if (v)
		*v += 1;
}
#endif

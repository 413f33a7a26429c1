/* many: the map definitions, each included by two or more of a.c, b.c, c.c
 * (every file gets its own copy, which bpfmerge must turn into one map).
 * A file defines the maps it uses by defining WANT_<MAP> before including. */
#include "bpf_defs.h"

#ifdef WANT_HMAP
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hmap SEC(".maps") SHARED;
#endif

#ifdef WANT_ARR
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps") SHARED;
#endif

#ifdef WANT_LRU
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps") SHARED;
#endif

#ifdef WANT_PCPU
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps") SHARED;
#endif

#ifdef WANT_RB
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps") SHARED;
#endif

#ifdef WANT_OUTER
/* The inner map's shape; the outer map's slots are filled by the test with a
 * map of exactly this shape. */
struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer SEC(".maps") SHARED;
#endif

/* *map[key] += delta, inserting delta when the key is absent (hash maps). */
static __always_inline void add(void *map, __u32 key, __u64 delta)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);
	if (v)
		__sync_fetch_and_add(v, delta);
	else
		bpf_map_update_elem(map, &key, &delta, BPF_NOEXIST);
}

/* fold_static_maps: a header with a static map and a global __noinline
 * function that uses it, included by x.c and y.c. The static maps agree, so
 * they are one map; the functions then reach the same map and fold. (With
 * HDR_MAP_TYPE set to another type, as fold_differ/own_map.c does, the static
 * maps differ and are kept apart, so the functions reach different maps and
 * do not fold.) */
#ifndef FSM_HDR_H
#define FSM_HDR_H

#ifndef HDR_MAP_TYPE
#define HDR_MAP_TYPE BPF_MAP_TYPE_ARRAY
#endif

static struct {
	__uint(type, HDR_MAP_TYPE);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hdr_map SEC(".maps");

/* hdr_map[0] += v; returns v. */
__noinline __u64 bump_hdr(__u64 v)
{
	__u32 k = 0;
	__u64 *p = bpf_map_lookup_elem(&hdr_map, &k);

	if (p)
		__sync_fetch_and_add(p, v);
	return v;
}

#endif

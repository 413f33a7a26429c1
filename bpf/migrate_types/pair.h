/* migrate_types: one object per version of `struct pair`. PAIR_MEMBERS is the version's
 * member list; JUMPS its prog array size. `pair_check` tail-calls jumps[0] (empty here), then
 * returns XDP_DROP when pair[1] holds a == 1 and b == 2, else XDP_PASS. */
#ifndef MIGRATE_TYPES_PAIR_H
#define MIGRATE_TYPES_PAIR_H

#ifndef JUMPS
#define JUMPS 2
#endif

struct pair {
	PAIR_MEMBERS
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct pair);
} pair SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JUMPS);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

SEC("xdp")
int pair_check(struct xdp_md *ctx)
{
	__u32 key = 1;
	struct pair *p;

	bpf_tail_call(ctx, &jumps, 0);
	p = bpf_map_lookup_elem(&pair, &key);
	if (p && p->a == 1 && p->b == 2)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

#endif

/* bpfmerge benchmark, small profile: 16 shared hash maps (SHARED is __weak under
 * -DSHARED_WEAK, the form libbpf's own linker accepts). Needs bpf_defs.h. */
#ifndef BPFMERGE_BENCH_SMALL_MAPS_H
#define BPFMERGE_BENCH_SMALL_MAPS_H

struct small_key {
	__u32 addr;
	__u16 port;
	__u16 proto;
};

struct small_val {
	__u64 packets;
	__u64 bytes;
};

#define SMALL_MAP(name, entries)                        \
	struct {                                        \
		__uint(type, BPF_MAP_TYPE_HASH);        \
		__uint(max_entries, entries);           \
		__type(key, struct small_key);          \
		__type(value, struct small_val);        \
	} name SEC(".maps") SHARED

SMALL_MAP(sm_0, 1024);
SMALL_MAP(sm_1, 1024);
SMALL_MAP(sm_2, 1024);
SMALL_MAP(sm_3, 1024);
SMALL_MAP(sm_4, 2048);
SMALL_MAP(sm_5, 2048);
SMALL_MAP(sm_6, 2048);
SMALL_MAP(sm_7, 2048);
SMALL_MAP(sm_8, 4096);
SMALL_MAP(sm_9, 4096);
SMALL_MAP(sm_10, 4096);
SMALL_MAP(sm_11, 4096);
SMALL_MAP(sm_12, 256);
SMALL_MAP(sm_13, 256);
SMALL_MAP(sm_14, 256);
SMALL_MAP(sm_15, 256);

#endif

/* map_rules: the perf event array of signed.c with `__u32` key and value. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
} events SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

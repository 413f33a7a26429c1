/* map_rules: a perf event array whose key and value are `int`. libbpf creates
 * perf event arrays without BTF key/value types (only the sizes reach the
 * kernel), so unsigned.c's `__u32` declaration is the same map. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, int);
	__type(value, int);
} events SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

/* bad_values: key_size 8 and a 4-byte key type in one definition. libbpf
 * refuses it ("conflicting key size"); so does bpfmerge. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__uint(key_size, 8);
	__type(key, __u32);
	__type(value, __u64);
} keys SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

/* bad_values: value_size 8 and a `values` member, which means value size 4.
 * libbpf refuses it ("conflicting value size 8 != 4"); so does bpfmerge. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__array(values, int (void *));
} jmp SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

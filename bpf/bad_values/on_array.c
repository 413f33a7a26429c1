/* bad_values: a `values` member on an ARRAY map. libbpf refuses it
 * ("should be map-in-map or prog-array"); so does bpfmerge. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} arr SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

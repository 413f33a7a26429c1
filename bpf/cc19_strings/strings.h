/* cc19_strings: string literals, which clang (14 and 19) puts in the mergeable section
 * `.rodata.str1.1` (SHF_MERGE|SHF_STRINGS, sh_entsize 1), in two files; found while linking
 * real-world-shaped clang-19 sources. Each program reads one byte of its own file's literal at
 * an index the compiler cannot fold (a volatile read of a .data knob) and stores it in the
 * shared map `picked`: a wrong offset of the second file's part of the merged section would
 * read the first file's bytes. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} picked SEC(".maps") SHARED;

/* picked[slot] = s[*index]; XDP_PASS, or XDP_ABORTED when the index is out of range. */
static __always_inline int pick(__u32 slot, const char *s, __u32 len, volatile __u32 *index)
{
	__u32 i = *index;
	__u64 v;

	if (i >= len)
		return XDP_ABORTED;
	v = (unsigned char)s[i];
	bpf_map_update_elem(&picked, &slot, &v, BPF_ANY);
	return XDP_PASS;
}

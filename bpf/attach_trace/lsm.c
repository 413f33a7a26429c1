/* attach_trace: an LSM program (lsm/file_open) that allows everything. It
 * loads wherever the kernel has BTF, but attaches only where the BPF LSM is
 * active (`bpf` in /sys/kernel/security/lsm); elsewhere `load --attach` must
 * fail with the kernel's reason and change nothing. */
#include "bpf_defs.h"

SEC("lsm/file_open")
int allow_open(__u64 *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

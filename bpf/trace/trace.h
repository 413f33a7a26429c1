/* trace: the header both tracing programs include. enter.c keeps per-process
 * state in the shared hash pid_states (keyed by tgid) on every syscall entry;
 * exit.c completes it on syscall exit and reports each completed call into
 * the shared ring buffer `events`. */
#include "bpf_defs.h"

#define SYS_EXIT_GROUP 231

/* Context of BPF_PROG_TYPE_RAW_TRACEPOINT programs: args[1] is the syscall id
 * (sys_enter) or its return value (sys_exit). */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

struct pid_state {
	__u64 last_id;	/* id of the last syscall entered */
	__u64 enters;
	__u64 exits;
	__u64 ret_sum;	/* sum of the return values seen on exit */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pid_state);
} pid_states SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps") SHARED;

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

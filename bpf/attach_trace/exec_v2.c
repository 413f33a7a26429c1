/* attach_trace: version 2 (counts into hits[1]). */
#define VERSION 2
#include "exec.h"

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	return count_exec();
}

char LICENSE[] SEC("license") = "GPL";

/* attach_trace: version 1 (counts into hits[0]). */
#define VERSION 1
#include "exec.h"

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	return count_exec();
}

char LICENSE[] SEC("license") = "GPL";

/* core: the few kernel types the programs use, trimmed by hand from
 * `bpftool btf dump file /sys/kernel/btf/vmlinux format c`.
 *
 * Committed instead of a full generated vmlinux.h on purpose: a generated one
 * is several MB and depends on the running kernel, so the committed fixtures
 * would change from machine to machine (and scripts/build-fixtures.sh could
 * not reproduce them byte for byte). With preserve_access_index, CO-RE only
 * needs the type and field names: libbpf finds the real offsets in the
 * kernel's BTF at load time. */
#ifndef BPFMERGE_VMLINUX_MIN_H
#define BPFMERGE_VMLINUX_MIN_H

typedef int pid_t;

struct task_struct {
	pid_t pid;
	pid_t tgid;
} __attribute__((preserve_access_index));

/* A flavour (the ___ suffix is ignored when matching) with a field no kernel
 * has, for a FIELD_EXISTS relocation that must resolve to 0. */
struct task_struct___nope {
	int no_such_field;
} __attribute__((preserve_access_index));

#endif

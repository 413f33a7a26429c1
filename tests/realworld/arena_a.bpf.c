/* clang 19 only (clang 14 has no BPF address spaces): globals in a BPF arena, which clang
 * puts in the section `.addr_space.1` and libbpf copies into the arena at load time; the
 * arena map and part of the globals here, the rest in arena_b.bpf.c. */
#include "vmlinux.h"
#include "rw.h"

#define __arena __attribute__((address_space(1)))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
} arena SEC(".maps");

int __arena arena_counter;
int __arena arena_arr[4] = { 10, 20, 30, 40 };

/* arena_counter += 1; returns arena_arr[1] + arena_counter. */
SEC("xdp")
int xdp_arena_a(struct xdp_md *ctx)
{
	arena_counter += 1;
	return arena_arr[1] + arena_counter;
}

char LICENSE[] SEC("license") = "GPL";

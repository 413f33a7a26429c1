/* ulong_extra_link: an arena whose map_extra (the user-space address it maps at) needs 64
 * bits: __ulong() then gives an ENUM64. Linked only (tests/link_realworld.rs): the address
 * is machine-specific. arena_other.c declares the same map at another address. */
#include "bpf_defs.h"

#define ULONG_PASTE2(a, b) a##b
#define ULONG_PASTE(a, b) ULONG_PASTE2(a, b)
#define __ulong(name, val) enum { ULONG_PASTE(ulong_value_, __COUNTER__) = val } name

#define MAP_TYPE_ARENA 33
#define F_MMAPABLE (1U << 10)

#ifndef ARENA_AT
#define ARENA_AT (1ull << 44)
#endif

struct {
	__uint(type, MAP_TYPE_ARENA);
	__uint(map_flags, F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, ARENA_AT);
} arena SEC(".maps");

SEC("xdp")
int xdp_arena(struct xdp_md *ctx)
{
	return &arena ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

/* migrate_types: the members of v1's struct pair reordered, same size (8 bytes). */
#include "bpf_defs.h"
#define PAIR_MEMBERS __u32 b; __u32 a;
#include "pair.h"

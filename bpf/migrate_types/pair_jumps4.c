/* migrate_types: v1 with a prog array of 4 slots instead of 2 (cannot be migrated). */
#include "bpf_defs.h"
#define PAIR_MEMBERS __u32 a; __u32 b;
#define JUMPS 4
#include "pair.h"

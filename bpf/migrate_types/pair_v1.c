/* migrate_types v1: struct pair { __u32 a; __u32 b; } */
#include "bpf_defs.h"
#define PAIR_MEMBERS __u32 a; __u32 b;
#include "pair.h"

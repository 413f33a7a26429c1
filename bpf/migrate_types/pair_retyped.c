/* migrate_types: v1's member `b` made signed, same size and place. */
#include "bpf_defs.h"
#define PAIR_MEMBERS __u32 a; __s32 b;
#include "pair.h"

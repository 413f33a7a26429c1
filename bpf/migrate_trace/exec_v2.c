/* migrate_trace v2: 8 slots, counts into hits[1]. */
#define VERSION 2
#define HITS 8
#include "exec.h"

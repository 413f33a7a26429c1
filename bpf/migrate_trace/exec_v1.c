/* migrate_trace v1: 4 slots, counts into hits[0]. */
#define VERSION 1
#define HITS 4
#include "exec.h"

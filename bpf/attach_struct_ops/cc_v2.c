/* attach_struct_ops: version 2 (counts into hits[1]). */
#define VERSION 2
#include "cc.h"

char LICENSE[] SEC("license") = "GPL";

/* attach_struct_ops: version 1 (counts into hits[0]). */
#define VERSION 1
#include "cc.h"

char LICENSE[] SEC("license") = "GPL";

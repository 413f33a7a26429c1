/* ulong_extra_link: arena.c's map at another address (1 << 45): the definitions differ in
 * map_extra. */
#define ARENA_AT (1ull << 45)
#include "arena.c"

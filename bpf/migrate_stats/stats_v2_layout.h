/* migrate_stats v2's value: `bytes` moved to the front, `gone` removed, `added` added. */
#ifndef MIGRATE_STATS_V2_LAYOUT_H
#define MIGRATE_STATS_V2_LAYOUT_H

struct stats {
	__u64 bytes;   /* byte 0 */
	__u64 packets; /* byte 8 */
	__u64 added;   /* byte 16 */
	PROTO_T proto; /* byte 24; 32 bytes in all */
};
#define STATS_T struct stats
#include "stats.h"

#endif

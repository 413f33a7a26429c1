/* bpfmerge benchmark: the header every corpus object includes. It defines
 * 16 maps (HASH, ARRAY, PERCPU_ARRAY, LRU_HASH, PROG_ARRAY, RINGBUF) with
 * SHARED, which is empty by default and __weak under -DSHARED_WEAK, the form
 * libbpf's own linker (`bpftool gen object`) accepts. Needs __u32/__u64, SEC,
 * __uint, __type and the BPF_MAP_TYPE_* constants from bpf_defs.h (XDP corpus)
 * or vmlinux.h + core_defs.h (CO-RE corpus). */
#ifndef BPFMERGE_BENCH_MAPS_H
#define BPFMERGE_BENCH_MAPS_H

struct bench_flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct bench_flow_stats {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen;
	__u64 last_seen;
};

struct bench_config {
	__u32 enabled;
	__u32 sample_rate;
	__u64 drop_mask;
	__u32 limits[8];
};

struct bench_pkt_stats {
	__u64 pass;
	__u64 drop;
	__u64 tx;
	__u64 redirect;
};

struct bench_task_info {
	__u32 pid;
	__u32 tgid;
	__u64 start_ns;
	__u64 switches;
	char comm[16];
};

struct bench_event {
	__u32 kind;
	__u32 obj;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct bench_flow_key);
	__type(value, struct bench_flow_stats);
} flows SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct bench_config);
} bench_config_map SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_counters SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} conn_lru SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 65536);
} events SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__type(key, __u32);
	__type(value, __u64);
} ip_counts SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bench_pkt_stats);
} pcpu_pkts SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct bench_flow_stats);
} src_lru SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct bench_task_info);
} tasks SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} latency SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u32);
} dst_lru SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} tail_progs SEC(".maps") SHARED;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 262144);
} log_rb SEC(".maps") SHARED;

#endif

/* fold_sample: a set of tracepoint programs and their stats map that a helper
 * contributes to several tools, modelled on xdp-tools' xdp_sample.bpf.c
 * (linked into xdp_redirect_basic, xdp_redirect_cpumap and xdp_monitor).
 * Every tool's object carries byte-identical copies of these programs;
 * linking two tools folds them. Like xdp_sample's, a program prints with a
 * bpf_printk-style `static const char` format (a file-local .rodata object in
 * each copy, with the same bytes). Raw tracepoints so that BPF_PROG_TEST_RUN
 * can run them. */
#ifndef FOLD_SAMPLE_H
#define FOLD_SAMPLE_H

struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;

#ifndef SAMPLE_FMT
#define SAMPLE_FMT "xdp_exception: err %llu\n"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sample_stats SEC(".maps");

static __always_inline void sample_add(__u32 k, __u64 v)
{
	__u64 *slot = bpf_map_lookup_elem(&sample_stats, &k);

	if (slot)
		__sync_fetch_and_add(slot, v);
}

/* sample_stats[0] += the error argument (args[2]), which is also printed. */
SEC("raw_tp/xdp_exception")
int tp_xdp_exception(struct bpf_raw_tracepoint_args *ctx)
{
	static const char fmt[] = SAMPLE_FMT;

	sample_add(0, ctx->args[2]);
	bpf_trace_printk(fmt, sizeof(fmt), ctx->args[2]);
	return 0;
}

/* sample_stats[1] += 1. */
SEC("raw_tp/xdp_redirect")
int tp_xdp_redirect(struct bpf_raw_tracepoint_args *ctx)
{
	sample_add(1, 1);
	return 0;
}

#endif

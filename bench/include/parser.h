/* bpfmerge benchmark, medium profile: a packet parser header of the kind
 * xdp-tools and libbpf-tools share between objects (header structs, static
 * inline parse helpers). Needs bpf_defs.h. */
#ifndef BPFMERGE_BENCH_PARSER_H
#define BPFMERGE_BENCH_PARSER_H

struct p_ethhdr {
	__u8 h_dest[6];
	__u8 h_source[6];
	__u16 h_proto;
};

struct p_vlanhdr {
	__u16 tci;
	__u16 encap_proto;
};

struct p_iphdr {
	__u8 ihl_ver;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

struct p_ipv6hdr {
	__u32 ver_tc_flow;
	__u16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u32 saddr[4];
	__u32 daddr[4];
};

struct p_tcphdr {
	__u16 source;
	__u16 dest;
	__u32 seq;
	__u32 ack_seq;
	__u16 flags;
	__u16 window;
	__u16 check;
	__u16 urg_ptr;
};

struct p_udphdr {
	__u16 source;
	__u16 dest;
	__u16 len;
	__u16 check;
};

struct p_icmphdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest;
};

struct hdr_cursor {
	void *pos;
	void *end;
};

struct pkt_meta {
	__u16 l3_proto;
	__u8 l4_proto;
	__u8 vlans;
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u32 l4_len;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u16 pad;
};

static __always_inline int parse_ethhdr(struct hdr_cursor *c, struct pkt_meta *m)
{
	struct p_ethhdr *eth = c->pos;
	struct p_vlanhdr *vh;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	proto = eth->h_proto;
	if (proto == 0x0081 || proto == 0xa888) {
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return -1;
		proto = vh->encap_proto;
		c->pos = vh + 1;
		m->vlans++;
	}
	m->l3_proto = proto;
	return proto;
}

static __always_inline int parse_iphdr(struct hdr_cursor *c, struct pkt_meta *m)
{
	struct p_iphdr *ip = c->pos;
	int len;

	if ((void *)(ip + 1) > c->end)
		return -1;
	len = (ip->ihl_ver & 0xf) * 4;
	if (len < (int)sizeof(*ip) || c->pos + len > c->end)
		return -1;
	c->pos += len;
	m->saddr[0] = ip->saddr;
	m->daddr[0] = ip->daddr;
	m->l4_proto = ip->protocol;
	return ip->protocol;
}

static __always_inline int parse_ip6hdr(struct hdr_cursor *c, struct pkt_meta *m)
{
	struct p_ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > c->end)
		return -1;
	c->pos = ip6 + 1;
	m->saddr[0] = ip6->saddr[3];
	m->daddr[0] = ip6->daddr[3];
	m->l4_proto = ip6->nexthdr;
	return ip6->nexthdr;
}

static __always_inline int parse_l4(struct hdr_cursor *c, struct pkt_meta *m)
{
	if (m->l4_proto == 6) {
		struct p_tcphdr *t = c->pos;

		if ((void *)(t + 1) > c->end)
			return -1;
		m->sport = t->source;
		m->dport = t->dest;
		m->tcp_flags = t->flags >> 8;
	} else if (m->l4_proto == 17) {
		struct p_udphdr *u = c->pos;

		if ((void *)(u + 1) > c->end)
			return -1;
		m->sport = u->source;
		m->dport = u->dest;
		m->l4_len = u->len;
	} else if (m->l4_proto == 1 || m->l4_proto == 58) {
		struct p_icmphdr *ic = c->pos;

		if ((void *)(ic + 1) > c->end)
			return -1;
		m->icmp_type = ic->type;
	}
	return 0;
}

static __always_inline int parse_packet(struct xdp_md *ctx, struct pkt_meta *m)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	int proto = parse_ethhdr(&c, m);

	if (proto == 0x0008)
		proto = parse_iphdr(&c, m);
	else if (proto == 0xdd86)
		proto = parse_ip6hdr(&c, m);
	else
		return -1;
	if (proto < 0)
		return -1;
	return parse_l4(&c, m);
}

#endif

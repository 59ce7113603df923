/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv4/IPv6 + L4 parsing into a flow description: addresses, ports,
 * fragment position, TCP flags, ICMP type/code and, for ICMP errors, the
 * flow the error quotes. Context-free (cursor + data_end). */
#ifndef NT_BPF_L3_H
#define NT_BPF_L3_H

#include "parse.h"
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

enum nt_frag_pos {
	NT_FRAG_NONE = 0,
	NT_FRAG_FIRST = 1, /* offset 0, more fragments: has the L4 header */
	NT_FRAG_LATER = 2, /* no L4 header */
};

#define NT_TCP_FIN 0x01
#define NT_TCP_SYN 0x02
#define NT_TCP_RST 0x04
#define NT_TCP_ACK 0x10

struct nt_tuple {
	union nt_ip src;
	union nt_ip dst;
	__be16 sport; /* ICMP echo: identifier (both ports) */
	__be16 dport;
	__u8 proto;
	__u8 family; /* 4 or 6 */
	__u16 sg_port; /* classifier key: dport (host order), or ICMP type<<8|code */
};

struct nt_flow {
	struct nt_tuple t;
	struct nt_tuple quoted; /* valid when icmp_error */
	__u32 frag_id;
	__u8 frag;         /* enum nt_frag_pos */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 icmp_error;   /* an ICMP error that quotes a flow */
	__u8 l4_ok;        /* the L4 header was present and parsed */
	__u8 pad[2];
};

NT_INLINE int nt_icmp4_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type == ICMP_SOURCE_QUENCH;
}

NT_INLINE int nt_icmp6_is_error(__u8 type)
{
	return type >= 1 && type <= 4; /* unreach, too big, time exceeded, param problem */
}

NT_INLINE int nt_is_echo(__u8 family, __u8 type)
{
	return family == 4 ? (type == ICMP_ECHO || type == ICMP_ECHOREPLY)
			   : (type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY);
}

/* Ports of an L4 header at the cursor into t (sport/dport/sg_port); for
 * ICMP also type/code. Returns 0, or -1 when the header is truncated. */
NT_INLINE int nt_parse_ports(struct nt_cursor *c, struct nt_tuple *t, __u8 *type, __u8 *code)
{
	switch (t->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		__be16 *ports = c->pos;

		if ((void *)(ports + 2) > c->end)
			return -1;
		t->sport = ports[0];
		t->dport = ports[1];
		t->sg_port = bpf_ntohs(ports[1]);
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 *h = c->pos;

		if ((void *)(h + 8) > c->end)
			return -1;
		*type = h[0];
		*code = h[1];
		t->sg_port = ((__u16)h[0] << 8) | h[1];
		if (nt_is_echo(t->family, h[0])) {
			__be16 id = *(__be16 *)(h + 4);
			t->sport = id;
			t->dport = id;
		}
		return 0;
	}
	}
	return 0;
}

/* The smallest L4 header of proto: a datagram with less is malformed. */
NT_INLINE __u32 nt_l4_min_len(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return sizeof(struct tcphdr);
	case IPPROTO_SCTP:
		return 12; /* common header */
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	}
	return 0;
}

/* The header quoted by an ICMP error (len bytes of the error's datagram are
 * left at the cursor): IP header + the first 8 bytes of L4. */
NT_INLINE int nt_parse_quoted(struct nt_cursor *c, struct nt_flow *f, __u32 len)
{
	__u8 type = 0, code = 0;

	if (f->t.family == 4) {
		struct iphdr *ip = c->pos;

		if ((void *)(ip + 1) > c->end || ip->ihl < 5 || ip->ihl * 4 + 8 > len)
			return -1;
		nt_ip_from_v4(&f->quoted.src, ip->saddr);
		nt_ip_from_v4(&f->quoted.dst, ip->daddr);
		f->quoted.proto = ip->protocol;
		f->quoted.family = 4;
		c->pos = (void *)ip + ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = c->pos;

		if ((void *)(ip6 + 1) > c->end || sizeof(*ip6) + 8 > len)
			return -1;
		__builtin_memcpy(f->quoted.src.b, &ip6->saddr, 16);
		__builtin_memcpy(f->quoted.dst.b, &ip6->daddr, 16);
		f->quoted.proto = ip6->nexthdr;
		f->quoted.family = 6;
		c->pos = ip6 + 1;
	}
	return nt_parse_ports(c, &f->quoted, &type, &code);
}

/* The L4 header at the cursor, len bytes of datagram left (the IP length
 * fields: what follows in the frame is padding). */
NT_INLINE int nt_parse_l4(struct nt_cursor *c, struct nt_flow *f, __u32 len)
{
	if (f->frag == NT_FRAG_LATER)
		return 0;
	if (len < nt_l4_min_len(f->t.proto))
		return -1;
	if (nt_parse_ports(c, &f->t, &f->icmp_type, &f->icmp_code) < 0)
		return -1;
	f->l4_ok = 1;
	if (f->t.proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end)
			return -1;
		f->tcp_flags = ((__u8 *)th)[13];
	}
	if ((f->t.proto == IPPROTO_ICMP && nt_icmp4_is_error(f->icmp_type)) ||
	    (f->t.proto == IPPROTO_ICMPV6 && nt_icmp6_is_error(f->icmp_type))) {
		c->pos += 8;
		if (nt_parse_quoted(c, f, len - 8) == 0)
			f->icmp_error = 1;
	}
	return 0;
}

/* IPv4 at the cursor, with bytes bytes of packet from the cursor on (linear
 * or not: end may stop short of them). A total length below the header or
 * beyond those bytes is malformed; L4 is parsed within the total length. */
NT_INLINE int nt_parse_ipv4_within(struct nt_cursor *c, struct nt_flow *f, __u32 bytes)
{
	struct iphdr *ip = c->pos;
	__u32 tot;
	__u16 frag;

	if ((void *)(ip + 1) > c->end || ip->ihl < 5 || ip->version != 4)
		return -1;
	if (c->pos + ip->ihl * 4 > c->end)
		return -1;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < ip->ihl * 4 || tot > bytes)
		return -1;
	f->t.family = 4;
	f->t.proto = ip->protocol;
	nt_ip_from_v4(&f->t.src, ip->saddr);
	nt_ip_from_v4(&f->t.dst, ip->daddr);
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff)
		f->frag = NT_FRAG_LATER;
	else if (frag & 0x2000)
		f->frag = NT_FRAG_FIRST;
	f->frag_id = bpf_ntohs(ip->id);
	c->pos += ip->ihl * 4;
	return nt_parse_l4(c, f, tot - ip->ihl * 4);
}

/* The same where only the linear part is known (end): the total length is
 * bounded by IPv4's own maximum, L4 still by the total length. */
NT_INLINE int nt_parse_ipv4(struct nt_cursor *c, struct nt_flow *f)
{
	return nt_parse_ipv4_within(c, f, 0xffff);
}

/* IPv6 with up to four extension headers (hop-by-hop, routing, destination
 * options, fragment) before the L4 header. */
NT_INLINE int nt_parse_ipv6(struct nt_cursor *c, struct nt_flow *f)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 len; /* payload bytes left after the headers parsed so far */
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > c->end || ip6->version != 6)
		return -1;
	len = bpf_ntohs(ip6->payload_len);
	f->t.family = 6;
	__builtin_memcpy(f->t.src.b, &ip6->saddr, 16);
	__builtin_memcpy(f->t.dst.b, &ip6->daddr, 16);
	next = ip6->nexthdr;
	c->pos = ip6 + 1;
	for (i = 0; i < 4; i++) {
		__u8 *h = c->pos;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if ((void *)(h + 8) > c->end || len < 8)
			return -1;
		if (next == IPPROTO_FRAGMENT) {
			__u16 off = bpf_ntohs(*(__be16 *)(h + 2));

			f->frag = (off & 0xfff8) ? NT_FRAG_LATER : (off & 1) ? NT_FRAG_FIRST : NT_FRAG_NONE;
			f->frag_id = bpf_ntohl(*(__be32 *)(h + 4));
			next = h[0];
			c->pos = h + 8;
			len -= 8;
		} else {
			if ((h[1] + 1) * 8 > len)
				return -1;
			next = h[0];
			c->pos = h + (h[1] + 1) * 8;
			len -= (h[1] + 1) * 8;
		}
	}
	f->t.proto = next;
	return nt_parse_l4(c, f, len);
}

NT_INLINE void nt_tuple_reverse(const struct nt_tuple *in, struct nt_tuple *out)
{
	*out = *in;
	out->src = in->dst;
	out->dst = in->src;
	out->sport = in->dport;
	out->dport = in->sport;
}

#endif

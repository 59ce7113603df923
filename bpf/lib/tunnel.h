/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Tunnel wire formats and the receive-side classifier shared by the XDP and
 * TC programs of an uplink: is this VXLAN/GRE packet for this host, from a
 * known host, for a known network? Context-free (data pointers only). */
#ifndef NT_BPF_TUNNEL_H
#define NT_BPF_TUNNEL_H

#include "parse.h"
#include "maps.h"
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

struct nt_vxlanhdr {
	__be32 flags; /* 0x08000000: the VNI is valid (RFC 7348 "I" flag) */
	__be32 vni;   /* VNI << 8 */
};

struct nt_grehdr {
	__be16 flags; /* C 0x8000, K 0x2000, S 0x1000, version in the low 3 bits */
	__be16 proto; /* 0x6558: transparent Ethernet bridging */
};

#define NT_VXLAN_FLAG_I bpf_htonl(0x08000000)
#define NT_GRE_C 0x8000
#define NT_GRE_K 0x2000
#define NT_GRE_S 0x1000
#define NT_GRE_VERSION 0x0007
#define NT_GRE_ROUTING 0x4000

struct nt_tun_rx {
	__u32 net_id;
	__u32 type;      /* NT_NET_VXLAN or NT_NET_GRE */
	__u32 seg_id;
	__u32 outer_len; /* bytes before the inner Ethernet header */
	union nt_ip src; /* the sending host's tunnel address */
};

/* Is the checksum of the IPv4 header at ip right, options included? The
 * fixed 20 bytes must be in the packet already; each option word is
 * checked against end. */
NT_INLINE int nt_ipv4_csum_ok(const struct iphdr *ip, const void *end)
{
	const __u16 *w = (const __u16 *)ip;
	const __u32 *opt = (const __u32 *)(ip + 1);
	int nopt = ip->ihl - 5;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	for (i = 0; i < 10; i++) { /* bounded: IHL 15 is 40 bytes of options */
		if (i >= nopt)
			break;
		const __u32 *next = opt + 1;

		asm volatile("" : "+r"(next)); /* compared as is, not rewritten as end - 4 */
		if ((const void *)next > end)
			return 0;
		sum += (*opt & 0xffff) + (*opt >> 16);
		opt = next;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

NT_INLINE struct nt_config *nt_host_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nt_config, &zero);
}

/* A frame of len bytes (linear or not: only the headers need to be between
 * data and data_end) that arrived untagged on ifindex: 0: not tunnel
 * traffic for this host (the stack's business; always so off the tunnel
 * interface); 1: a valid tunnel packet, described in rx; negative:
 * -(drop reason). */
NT_INLINE int nt_tunnel_rx_classify(void *data, void *data_end, __u32 len, __u32 ifindex, struct nt_tun_rx *rx)
{
	struct nt_cursor c = { data, data_end };
	struct nt_config *cfg = nt_host_config();
	struct nt_tun_key tk = {};
	struct nt_vtep_key vk = {};
	struct nt_tun_net *tn;
	struct ethhdr *eth;
	struct iphdr *ip;
	void *dgram_end; /* the end of the outer IP datagram: padding follows */
	__u32 tot;

	if (!cfg || !cfg->tunnel_ip.w[3] || !cfg->tunnel_ifindex || ifindex != cfg->tunnel_ifindex)
		return 0;
	eth = nt_parse_eth(&c);
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	ip = c.pos;
	if ((void *)(ip + 1) > c.end || ip->ihl < 5 || ip->daddr != cfg->tunnel_ip.w[3])
		return 0;
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_GRE)
		return 0;
	/* Everything below is parsed within the datagram, never from the
	 * Ethernet padding or trailing bytes behind it. */
	tot = bpf_ntohs(ip->tot_len);
	asm volatile("" : "+r"(tot));
	tot &= 0xffff; /* kept: 6.1's verifier loses the bounds of a byte swap */
	dgram_end = (void *)ip + tot;
	if (tot < ip->ihl * 4 || tot > len - sizeof(*eth) || !nt_ipv4_csum_ok(ip, c.end))
		return -NT_DROP_BAD_TUNNEL;
	c.pos = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = c.pos;
		struct nt_vxlanhdr *vx;

		if ((void *)(udp + 1) > c.end || (void *)(udp + 1) > dgram_end)
			return 0;
		if (udp->dest != bpf_htons(NT_VXLAN_PORT))
			return 0;
		vx = (void *)(udp + 1);
		if ((void *)(vx + 1) > c.end || (void *)(vx + 1) > dgram_end || !(vx->flags & NT_VXLAN_FLAG_I))
			return -NT_DROP_BAD_TUNNEL;
		tk.type = NT_NET_VXLAN;
		tk.seg_id = bpf_ntohl(vx->vni) >> 8;
		c.pos = vx + 1;
	} else {
		struct nt_grehdr *gre = c.pos;
		__u16 fl;
		__u32 off = sizeof(*gre);

		if ((void *)(gre + 1) > c.end || (void *)(gre + 1) > dgram_end)
			return -NT_DROP_BAD_TUNNEL;
		fl = bpf_ntohs(gre->flags);
		if ((fl & (NT_GRE_VERSION | NT_GRE_ROUTING)) || !(fl & NT_GRE_K) ||
		    gre->proto != bpf_htons(NT_GRE_PROTO_TEB))
			return -NT_DROP_BAD_TUNNEL;
		if (fl & NT_GRE_C)
			off += 4;
		if (c.pos + off + 4 > c.end || c.pos + off + 4 > dgram_end)
			return -NT_DROP_BAD_TUNNEL;
		tk.type = NT_NET_GRE;
		tk.seg_id = bpf_ntohl(*(__be32 *)(c.pos + off));
		off += 4;
		if (fl & NT_GRE_S)
			off += 4;
		c.pos += off;
	}
	if (bpf_ntohs(ip->frag_off) & 0x3fff)
		return -NT_DROP_BAD_TUNNEL; /* we never send fragmented tunnel packets */
	if (c.pos + sizeof(struct ethhdr) > c.end || c.pos + sizeof(struct ethhdr) > dgram_end)
		return -NT_DROP_BAD_TUNNEL;
	nt_ip_from_v4(&vk.ip, ip->saddr);
	if (!bpf_map_lookup_elem(&nt_vteps, &vk))
		return -NT_DROP_UNKNOWN_VTEP;
	tn = bpf_map_lookup_elem(&nt_tun_nets, &tk);
	if (!tn)
		return -NT_DROP_UNKNOWN_VNI;
	rx->net_id = tn->net_id;
	rx->type = tk.type;
	rx->seg_id = tk.seg_id;
	rx->outer_len = c.pos - data;
	rx->src = vk.ip;
	return 1;
}

/* One's-complement checksum of a 20-byte IPv4 header (no options). */
NT_INLINE __u16 nt_ipv4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The outer headers of a tunnel packet, written at p (the byte after the
 * outer Ethernet header). len is the outer IP total length. */
NT_INLINE void nt_write_tunnel_headers(struct iphdr *ip, void *end, __u32 type, __u32 seg_id,
				       __be32 saddr, __be32 daddr, __u16 tot_len, __u32 hash)
{
	if ((void *)(ip + 1) > end)
		return;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(tot_len);
	ip->id = bpf_htons(hash & 0xffff);
	ip->frag_off = bpf_htons(0x4000); /* DF: the overlay MTU leaves room, never fragment */
	ip->ttl = NT_TUNNEL_TTL;
	ip->protocol = type == NT_NET_VXLAN ? IPPROTO_UDP : IPPROTO_GRE;
	ip->check = 0;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = nt_ipv4_csum(ip);
	if (type == NT_NET_VXLAN) {
		struct udphdr *udp = (void *)(ip + 1);
		struct nt_vxlanhdr *vx = (void *)(udp + 1);

		if ((void *)(vx + 1) > end)
			return;
		/* Source port from the inner flow hash, so ECMP underlays spread flows. */
		udp->source = bpf_htons(49152 | (hash & 0x3fff));
		udp->dest = bpf_htons(NT_VXLAN_PORT);
		udp->len = bpf_htons(tot_len - sizeof(*ip));
		udp->check = 0; /* allowed for VXLAN over IPv4 (RFC 7348) */
		vx->flags = NT_VXLAN_FLAG_I;
		vx->vni = bpf_htonl(seg_id << 8);
	} else {
		struct nt_grehdr *gre = (void *)(ip + 1);
		__be32 *key = (void *)(gre + 1);

		if ((void *)(key + 1) > end)
			return;
		gre->flags = bpf_htons(NT_GRE_K);
		gre->proto = bpf_htons(NT_GRE_PROTO_TEB);
		*key = bpf_htonl(seg_id);
	}
}

NT_INLINE __u32 nt_tunnel_overhead(__u32 type)
{
	/* outer IP + (UDP + VXLAN | GRE + key), excluding both Ethernet headers */
	return sizeof(struct iphdr) + (type == NT_NET_VXLAN ? sizeof(struct udphdr) + sizeof(struct nt_vxlanhdr)
							     : sizeof(struct nt_grehdr) + 4);
}

#endif

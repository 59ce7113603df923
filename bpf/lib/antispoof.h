/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Anti-spoofing for ports with port security: the source MAC and IP (and
 * the ARP sender) must be the port's own or an allowed address pair. The
 * common case (own MAC, own first IP) costs two compares; everything else is
 * one LPM lookup in nt_addrs. */
#ifndef NT_BPF_ANTISPOOF_H
#define NT_BPF_ANTISPOOF_H

#include "l3.h"
#include "maps.h"

NT_INLINE int nt_ip_eq(const union nt_ip *a, const union nt_ip *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		(a->w[3] ^ b->w[3])) == 0;
}

NT_INLINE int nt_ip_is_unspecified(const union nt_ip *ip, __u8 family)
{
	if (family == 4)
		return ip->w[3] == 0;
	return (ip->w[0] | ip->w[1] | ip->w[2] | ip->w[3]) == 0;
}

/* Flags of the longest nt_addrs entry for (port, mac, ip); with ip NULL,
 * only MAC-wide entries are considered. 0 = the MAC is not the port's. */
NT_INLINE __u32 nt_addr_lookup(__u32 port_tag, const __u8 *mac, const union nt_ip *ip)
{
	struct nt_addr_key k = { .port_tag = port_tag };
	struct nt_addr_allow *a;

	nt_mac_copy(k.mac, mac);
	if (ip) {
		k.prefixlen = NT_ADDR_FIXED_BITS + 128;
		k.ip = *ip;
	} else {
		k.prefixlen = NT_ADDR_FIXED_BITS;
	}
	a = bpf_map_lookup_elem(&nt_addrs, &k);
	return a ? a->flags : 0;
}

/* Is this source MAC allowed on the port at all? */
NT_INLINE int nt_antispoof_mac(const struct nt_port *port, const __u8 *src)
{
	if (nt_mac_eq(src, port->mac))
		return 0;
	return nt_addr_lookup(port->port_tag, src, NULL) ? 0 : NT_DROP_SPOOFED_MAC;
}

/* Source IP of an IP packet whose MAC passed. DHCP clients and IPv6
 * duplicate-address detection legitimately send from the unspecified address. */
NT_INLINE int nt_antispoof_ip(const struct nt_port *port, const __u8 *src_mac, const struct nt_flow *f)
{
	if (nt_mac_eq(src_mac, port->mac) && nt_ip_eq(&f->t.src, &port->ip))
		return 0;
	if (nt_ip_is_unspecified(&f->t.src, f->t.family)) {
		if (f->t.family == 4 && f->t.proto == IPPROTO_UDP && f->t.sport == bpf_htons(68) &&
		    f->t.dport == bpf_htons(67))
			return 0;
		if (f->t.family == 6 && f->t.proto == IPPROTO_ICMPV6)
			return 0; /* DAD neighbour solicitation, MLD report */
		return NT_DROP_SPOOFED_IP;
	}
	return (nt_addr_lookup(port->port_tag, src_mac, &f->t.src) & NT_ADDR_IP) ? 0 : NT_DROP_SPOOFED_IP;
}

/* ARP: sender hardware and protocol address must be an allowed pair; a probe
 * (sender IP 0.0.0.0) only needs an allowed MAC. The sender fields are read
 * at Ethernet/IPv4 offsets: any other ARP is malformed. */
NT_INLINE int nt_antispoof_arp(const struct nt_port *port, const struct nt_arp *arp)
{
	union nt_ip spa;

	if (arp->hdr.ar_hrd != bpf_htons(ARPHRD_ETHER) || arp->hdr.ar_pro != bpf_htons(ETH_P_IP) ||
	    arp->hdr.ar_hln != NT_ETH_ALEN || arp->hdr.ar_pln != 4)
		return NT_DROP_MALFORMED;
	nt_ip_from_v4(&spa, arp->eth.spa);
	if (nt_mac_eq(arp->eth.sha, port->mac) && nt_ip_eq(&spa, &port->ip))
		return 0;
	if (arp->eth.spa == 0)
		return nt_addr_lookup(port->port_tag, arp->eth.sha, NULL) || nt_mac_eq(arp->eth.sha, port->mac)
			       ? 0
			       : NT_DROP_SPOOFED_ARP;
	return (nt_addr_lookup(port->port_tag, arp->eth.sha, &spa) & NT_ADDR_IP) ? 0 : NT_DROP_SPOOFED_ARP;
}

/* A VM may be a DHCP client, never a DHCP server. */
NT_INLINE int nt_is_dhcp_server_reply(const struct nt_flow *f)
{
	if (f->t.proto != IPPROTO_UDP || !f->l4_ok)
		return 0;
	return (f->t.family == 4 && f->t.sport == bpf_htons(67)) ||
	       (f->t.family == 6 && f->t.sport == bpf_htons(547));
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ARP responder: answers an Ethernet/IPv4 request for an address the state
 * knows in this network, by rewriting the request into the reply in place.
 * Context-free; the caller sends the frame back where it came from. */
#ifndef NT_BPF_ARP_H
#define NT_BPF_ARP_H

#include "parse.h"
#include "maps.h"

/* Returns 1 when the frame now holds the reply, 0 when it is not ours to
 * answer (the caller then forwards it like any broadcast). Only entries with
 * one of `owners` (enum nt_neigh_flags) are answered. */
NT_INLINE int nt_arp_reply_in_place(struct ethhdr *eth, struct nt_arp *arp, __u32 net_id, __u16 owners)
{
	struct nt_neigh_key key = { .net_id = net_id };
	struct nt_neigh *n;
	__be32 asked;

	if (!nt_arp_is_eth_ipv4_request(arp))
		return 0;
	asked = arp->eth.tpa;
	/* Gratuitous ARP and probes for one's own address are announcements
	 * or duplicate-address checks: answering them would fake a conflict. */
	if (asked == arp->eth.spa)
		return 0;
	nt_ip_from_v4(&key.ip, asked);
	n = bpf_map_lookup_elem(&nt_neigh, &key);
	if (!n || !(n->flags & owners) || (n->flags & NT_NEIGH_QUIET) || nt_mac_eq(n->mac, arp->eth.sha))
		return 0;

	nt_mac_copy(eth->h_dest, arp->eth.sha);
	nt_mac_copy(eth->h_source, n->mac);
	arp->hdr.ar_op = bpf_htons(ARPOP_REPLY);
	nt_mac_copy(arp->eth.tha, arp->eth.sha);
	arp->eth.tpa = arp->eth.spa;
	nt_mac_copy(arp->eth.sha, n->mac);
	arp->eth.spa = asked;
	return 1;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsers in the xdp-tools style: a cursor and data_end in, bounds
 * checked, cursor advanced, NULL on a short packet. Context-free, so XDP and
 * TC programs share them. */
#ifndef NT_BPF_PARSE_H
#define NT_BPF_PARSE_H

#include "common.h"
#include <linux/if_arp.h>

struct nt_cursor {
	void *pos;
	void *end;
};

/* Ethernet ARP body after struct arphdr (if_arp.h leaves it out). */
struct nt_arp_eth {
	__u8 sha[NT_ETH_ALEN];
	__be32 spa;
	__u8 tha[NT_ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

struct nt_arp {
	struct arphdr hdr;
	struct nt_arp_eth eth;
} __attribute__((packed));

#define NT_PARSE_HDR(type, name)                                                   \
	NT_INLINE type *nt_parse_##name(struct nt_cursor *c)                       \
	{                                                                          \
		type *h = c->pos;                                                  \
		if ((void *)(h + 1) > c->end)                                      \
			return NULL;                                               \
		c->pos = h + 1;                                                    \
		return h;                                                          \
	}

NT_PARSE_HDR(struct ethhdr, eth)
NT_PARSE_HDR(struct nt_arp, arp)

/* An ARP packet Neutrino can answer: Ethernet/IPv4 request. */
NT_INLINE int nt_arp_is_eth_ipv4_request(const struct nt_arp *arp)
{
	return arp->hdr.ar_hrd == bpf_htons(ARPHRD_ETHER) &&
	       arp->hdr.ar_pro == bpf_htons(ETH_P_IP) && arp->hdr.ar_hln == NT_ETH_ALEN &&
	       arp->hdr.ar_pln == 4 && arp->hdr.ar_op == bpf_htons(ARPOP_REQUEST);
}

#endif

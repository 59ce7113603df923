/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The external network's L2, where next hops are not Neutron ports (the
 * upstream gateway): their MACs are learned from the ARP traffic arriving on
 * the uplink, and a routed packet whose next hop is still unknown is turned
 * into an ARP request for it (the packet itself is dropped, as a router
 * without a queue does; the sender retransmits). */
#ifndef NT_BPF_EXTERNAL_H
#define NT_BPF_EXTERNAL_H

#include "parse.h"
#include "tc.h"

/* The MAC of a next hop: a Neutron address (compiled) or a learned one. */
NT_INLINE const __u8 *nt_next_hop_mac(const struct nt_neigh_key *k)
{
	struct nt_neigh *n = bpf_map_lookup_elem(&nt_neigh, k);

	if (!n)
		n = bpf_map_lookup_elem(&nt_ext_neigh, k);
	return n ? n->mac : NULL;
}

/* Learns the sender of an ARP request or reply seen on an external network. */
NT_INLINE void nt_ext_learn(__u32 net_id, const struct nt_arp *arp)
{
	struct nt_neigh_key k = { .net_id = net_id };
	struct nt_neigh v = {};

	if (!arp->eth.spa || nt_mac_is_multicast(arp->eth.sha))
		return;
	nt_ip_from_v4(&k.ip, arp->eth.spa);
	if (bpf_map_lookup_elem(&nt_neigh, &k))
		return; /* a Neutron address: the state is the authority */
	nt_mac_copy(v.mac, arp->eth.sha);
	bpf_map_update_elem(&nt_ext_neigh, &k, &v, BPF_ANY);
}

/* Padded to Ethernet's 60-byte minimum. That length also matters to the
 * kernel: bpf_skb_change_tail refuses to cut an skb whose checksum the VM
 * left to offload (CHECKSUM_PARTIAL) in front of that checksum field, and a
 * TCP segment's is at byte 50. */
struct nt_arp_frame {
	struct ethhdr eth;
	struct nt_arp arp;
	__u8 pad[18];
} __attribute__((packed));

/* Rewrites skb into a broadcast ARP request "who has target, tell ip/mac". */
NT_INLINE int nt_tc_arp_request(struct __sk_buff *skb, const __u8 *mac, __be32 ip, __be32 target)
{
	struct nt_arp_frame f = {};

	__builtin_memset(f.eth.h_dest, 0xff, NT_ETH_ALEN);
	nt_mac_copy(f.eth.h_source, mac);
	f.eth.h_proto = bpf_htons(ETH_P_ARP);
	f.arp.hdr.ar_hrd = bpf_htons(ARPHRD_ETHER);
	f.arp.hdr.ar_pro = bpf_htons(ETH_P_IP);
	f.arp.hdr.ar_hln = NT_ETH_ALEN;
	f.arp.hdr.ar_pln = 4;
	f.arp.hdr.ar_op = bpf_htons(ARPOP_REQUEST);
	nt_mac_copy(f.arp.eth.sha, mac);
	f.arp.eth.spa = ip;
	f.arp.eth.tpa = target;
	/* skb->protocol stays IPv4 (no helper changes it to ARP); the receiver
	 * reads the EtherType from the frame. */
	if (bpf_skb_change_tail(skb, sizeof(f), 0) < 0 ||
	    bpf_skb_store_bytes(skb, 0, &f, sizeof(f), BPF_F_INVALIDATE_HASH) < 0)
		return -1;
	return 0;
}

#endif

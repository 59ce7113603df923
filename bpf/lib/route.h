/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Distributed routing, TC side: a frame a VM sends to a router MAC is routed
 * on the VM's own host (no central router hop). Longest-prefix match in the
 * router's table, the router's own addresses answer ICMP echo, TTL and
 * unreachable errors go back as ICMP; then the frame, MACs rewritten and TTL
 * decremented, takes the L2 path of the egress network (a local tap, or the
 * overlay to the host of the destination). IPv4 only for now. */
#ifndef NT_BPF_ROUTE_H
#define NT_BPF_ROUTE_H

#include "send_tc.h"
#include "nat.h"
#include "external.h"

#define NT_IP_OFF sizeof(struct ethhdr)
#define NT_L4_OFF (sizeof(struct ethhdr) + sizeof(struct iphdr))

/* The TTL shares a 16-bit word with the protocol: the checksum is updated
 * for that word. */
NT_INLINE int nt_tc_set_ttl(struct __sk_buff *skb, const struct iphdr *ip, __u8 ttl)
{
	__be16 old = bpf_htons((__u16)ip->ttl << 8 | ip->protocol);
	__be16 new = bpf_htons((__u16)ttl << 8 | ip->protocol);

	if (bpf_l3_csum_replace(skb, NT_IP_OFF + offsetof(struct iphdr, check), old, new, sizeof(new)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, NT_IP_OFF + offsetof(struct iphdr, ttl), &ttl, 1, 0) < 0 ? -1 : 0;
}

/* Packets to the router's own addresses: ICMP echo requests are answered in
 * place (addresses and MACs swapped, type 8 -> 0), the rest is refused. */
NT_INLINE int nt_tc_router_local(struct __sk_buff *skb, const struct iphdr *ip)
{
	struct ethhdr eth;
	__u8 mac[NT_ETH_ALEN];
	__u8 type_code[2];
	__be16 old, new;

	if (ip->protocol != IPPROTO_ICMP || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)) ||
	    bpf_skb_load_bytes(skb, NT_L4_OFF, type_code, sizeof(type_code)) < 0 || type_code[0] != ICMP_ECHO)
		return -NT_DROP_TO_ROUTER;
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0)
		return -NT_DROP_MALFORMED;
	nt_mac_copy(mac, eth.h_dest);
	nt_mac_copy(eth.h_dest, eth.h_source);
	nt_mac_copy(eth.h_source, mac);
	old = bpf_htons(ICMP_ECHO << 8 | type_code[1]);
	new = bpf_htons(ICMP_ECHOREPLY << 8 | type_code[1]);
	/* Swapping the addresses leaves the IP checksum as it is. */
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) < 0 ||
	    bpf_skb_store_bytes(skb, NT_IP_OFF + offsetof(struct iphdr, saddr), &ip->daddr, 4, 0) < 0 ||
	    bpf_skb_store_bytes(skb, NT_IP_OFF + offsetof(struct iphdr, daddr), &ip->saddr, 4, 0) < 0 ||
	    nt_tc_set_ttl(skb, ip, 64) < 0 ||
	    bpf_l4_csum_replace(skb, NT_L4_OFF + offsetof(struct icmphdr, checksum), old, new, sizeof(new)) < 0 ||
	    bpf_skb_store_bytes(skb, NT_L4_OFF, &new, sizeof(new), 0) < 0)
		return -NT_DROP_MALFORMED;
	nt_tc_report(skb, NT_VERDICT_REPLY, skb->ifindex, 0);
	return nt_tc_back(skb);
}

/* Out of the physnet uplink of a flat/VLAN network to a MAC behind it. */
NT_INLINE int nt_tc_send_uplink(struct __sk_buff *skb, const struct nt_net *net)
{
	struct nt_fdb_entry out = { .ifindex = net->uplink, .flags = NT_FDB_UPLINK };

	return nt_tc_send_remote(skb, net, &out);
}

/* A next hop on the external network with no known MAC yet: ask for it
 * (the packet becomes the ARP request; the answer is learned on the uplink). */
NT_INLINE int nt_tc_resolve(struct __sk_buff *skb, const struct nt_net *net, const struct nt_route *rt,
			    const union nt_ip *next_hop)
{
	if (!nt_tc_tracing(skb)) {
		nt_count_drop_reason(NT_DROP_NO_NEIGHBOUR, skb->len);
		nt_mon_drop(skb, NT_DROP_NO_NEIGHBOUR); /* before it becomes the ARP request */
	}
	if (nt_tc_tracing(skb) || nt_tc_arp_request(skb, rt->mac, rt->src_ip, next_hop->w[3]) < 0) {
		nt_tc_report(skb, NT_VERDICT_DROP, 0, NT_DROP_NO_NEIGHBOUR);
		return TC_ACT_SHOT;
	}
	return nt_tc_send_uplink(skb, net);
}

/* A VM's flow to the outside whose router translates on another host (its
 * SNAT host, DVR's central SNAT): the frame goes as the VM sent it, to the
 * router's MAC, over the ingress network's tunnel to that host, which routes
 * and translates it; the replies come back to the VM the same way as any
 * routed frame. The tenant network's MTU already leaves room for the tunnel.
 * On a VLAN/flat network it goes out of the physnet uplink to the router's
 * SNAT MAC instead, which only the SNAT host routes (Neutron's csnat port). */
NT_INLINE int nt_tc_to_snat_host(struct __sk_buff *skb, struct nt_l3_scratch *x, struct nt_net_key *k,
				 const struct nt_snat *sn)
{
	struct nt_net *net;

	k->net_id = x->in_net;
	net = bpf_map_lookup_elem(&nt_nets, k);

	if (!net)
		return -NT_DROP_NO_SNAT_PATH;
	if ((net->type == NT_NET_VLAN || net->type == NT_NET_FLAT) && net->uplink) {
		if (bpf_skb_store_bytes(skb, 0, sn->snat_mac, NT_ETH_ALEN, 0) < 0)
			return -NT_DROP_MALFORMED;
		return nt_tc_send_uplink(skb, net);
	}
	if ((net->type != NT_NET_VXLAN && net->type != NT_NET_GRE) || !sn->snat_host.w[3])
		return -NT_DROP_NO_SNAT_PATH;
	__builtin_memset(&x->peer, 0, sizeof(x->peer));
	x->peer.flags = NT_FDB_REMOTE;
	x->peer.vtep = sn->snat_host;
	return nt_tc_send_remote(skb, net, &x->peer);
}

/* Routes the IPv4 frame in skb, sent to the router of `rtr` (its FDB entry
 * on the ingress network in_net). from_peer: it came from another host (over
 * the tunnel, or to the SNAT MAC on a VLAN/flat network); hosts route their
 * own VMs' frames and send only SNAT flows here (this host is the router's
 * SNAT host), so anything else is refused, and no ICMP error goes back (it
 * would not reach the VM; the sending host made the TTL and MTU checks).
 * Returns a TC action or -(drop reason). */
NT_GLOBAL int nt_tc_route(struct __sk_buff *skb, const struct nt_fdb_entry *rtr, __u32 in_net, __u32 from_peer)
{
	struct nt_l3_scratch *x = nt_l3_scratch_get();
	struct nt_route_key *rk;
	struct nt_neigh_key *nk;
	struct nt_fwd fwd = {};
	const __u8 *mac = NULL;
	struct nt_route *rt;
	struct nt_neigh *nb;
	struct nt_net_key netk;
	struct nt_net *net;
	struct iphdr *ip;
	__u8 *macs;
	__u32 external;
	__be32 from;
	int r;

	if (!skb || !rtr || !x)
		return -NT_DROP_NO_ROUTE;
	x->in_net = in_net;
	x->from_peer = from_peer;
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -NT_DROP_NO_ROUTE;
	ip = &x->ip;
	macs = x->macs;
	if (bpf_skb_load_bytes(skb, NT_IP_OFF, ip, sizeof(*ip)) < 0 || ip->ihl < 5)
		return -NT_DROP_MALFORMED;
	from = x->from_peer ? 0 : rtr->router_ip.w[3]; /* 0: drops without an ICMP error */
	rk = &x->rk;
	nk = &x->nk;
	__builtin_memset(rk, 0, sizeof(*rk));
	__builtin_memset(nk, 0, sizeof(*nk));
	rk->prefixlen = 32 + 128;
	rk->router_id = rtr->router_id;
	nt_ip_from_v4(&rk->dst, ip->daddr);
	rt = bpf_map_lookup_elem(&nt_routes, rk);
	if (!rt)
		return nt_tc_icmp4_back(skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0, from, NT_DROP_NO_ROUTE);

	nk->net_id = rt->net_id;
	if (rt->flags & NT_ROUTE_VIA)
		nk->ip = rt->nexthop;
	else
		nt_ip_from_v4(&nk->ip, ip->daddr);
	nb = bpf_map_lookup_elem(&nt_neigh, nk);
	/* For the router itself: a connected destination that is a router
	 * address. (A static route's next hop being a router says nothing
	 * about the destination.) */
	if (nb && (nb->flags & NT_NEIGH_ROUTER) && !(rt->flags & NT_ROUTE_VIA))
		return x->from_peer ? -NT_DROP_TO_ROUTER : nt_tc_router_local(skb, ip);
	if (ip->ttl <= 1)
		return nt_tc_icmp4_back(skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, from, NT_DROP_TTL_EXCEEDED);
	netk.net_id = rt->net_id;
	net = bpf_map_lookup_elem(&nt_nets, &netk);
	if (!net)
		return -NT_DROP_NO_ROUTE;
	external = rt->flags & NT_ROUTE_EXTERNAL;
	if (x->from_peer && !external)
		return -NT_DROP_NO_ROUTE;
	if (!nt_tc_fits(skb, net)) /* the egress network's MTU, error from the router */
		return x->from_peer ? -NT_DROP_MTU_EXCEEDED : nt_tc_too_big(skb, net->mtu, from);
	if (external && !x->from_peer) {
		struct nt_snat *sn = nt_snat_elsewhere(x, rtr->router_id, ip->saddr);

		if (sn)
			return nt_tc_to_snat_host(skb, x, &netk, sn);
	}
	mac = nb ? nb->mac : external ? nt_next_hop_mac(nk) : NULL;
	if (!mac) {
		if (external && net->uplink)
			return nt_tc_resolve(skb, net, rt, &nk->ip);
		return nt_tc_icmp4_back(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, from, NT_DROP_NO_NEIGHBOUR);
	}
	/* Map values are read before the packet changes (helpers may move it). */
	nt_mac_copy(macs, mac);
	nt_mac_copy(macs + NT_ETH_ALEN, rt->mac);
	if (external) {
		r = nt_nat_out(skb, rtr->router_id);
		if (r < 0)
			return r;
	}
	if (nt_tc_set_ttl(skb, ip, ip->ttl - 1) < 0 || bpf_skb_store_bytes(skb, 0, macs, 2 * NT_ETH_ALEN, 0) < 0)
		return -NT_DROP_MALFORMED;

	/* in_ifindex 0: a routed frame may go back out of the port it came from. */
	nt_l2_decide(netk.net_id, macs, 0, &fwd);
	switch (fwd.verdict) {
	case NT_VERDICT_REDIRECT:
		return nt_tc_redirect(skb, fwd.target);
	case NT_VERDICT_REMOTE:
		return nt_tc_send_remote(skb, net, fwd.remote);
	default:
		/* Not a Neutron port: on the external network, the upstream. */
		if (external && net->uplink)
			return nt_tc_send_uplink(skb, net);
		return -NT_DROP_NO_NEIGHBOUR;
	}
}

#endif

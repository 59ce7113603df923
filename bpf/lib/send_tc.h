/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sending a frame to another host, TC side: VXLAN/GRE encapsulation with
 * bpf_skb_adjust_room (GSO-aware) and the outer next hop from the FIB, or a
 * VLAN tag for provider networks; and the remote half of flooding. */
#ifndef NT_BPF_SEND_TC_H
#define NT_BPF_SEND_TC_H

#include "tunnel.h"
#include "tc.h"
#include "icmp_tc.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Grows the frame by the tunnel headers and writes them; the outer Ethernet
 * header is left for nt_tc_outer_l2. 0 or -(drop reason).
 * IP frames use bpf_skb_adjust_room, which keeps GSO metadata right for the
 * tunnel; it refuses other protocols (ARP), which get fresh headroom in front
 * with bpf_skb_change_head instead (they are never GSO). */
NT_INLINE int nt_tc_encap(struct __sk_buff *skb, __u32 type, __u32 seg_id, __be32 saddr, __be32 daddr)
{
	const __u32 overhead = nt_tunnel_overhead(type);
	__u32 hash = bpf_get_hash_recalc(skb);
	struct ethhdr inner;
	void *data, *end;

	if (bpf_skb_load_bytes(skb, 0, &inner, sizeof(inner)) < 0)
		return -NT_DROP_MALFORMED;
	if (skb->protocol == bpf_htons(ETH_P_IP) || skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 |
			      BPF_F_ADJ_ROOM_ENCAP_L2(sizeof(struct ethhdr)) | BPF_F_ADJ_ROOM_ENCAP_L2_ETH |
			      (type == NT_NET_VXLAN ? BPF_F_ADJ_ROOM_ENCAP_L4_UDP : BPF_F_ADJ_ROOM_ENCAP_L4_GRE);

		/* Room after the (soon outer) Ethernet header: tunnel headers +
		 * the inner Ethernet header, the original one copied back. */
		if (bpf_skb_adjust_room(skb, overhead + sizeof(inner), BPF_ADJ_ROOM_MAC, flags) < 0)
			return -NT_DROP_ENCAP_FAILED;
		if (bpf_skb_store_bytes(skb, sizeof(inner) + overhead, &inner, sizeof(inner), 0) < 0)
			return -NT_DROP_ENCAP_FAILED;
	} else {
		struct ethhdr outer = { .h_proto = bpf_htons(ETH_P_IP) };

		if (bpf_skb_change_head(skb, sizeof(outer) + overhead, 0) < 0)
			return -NT_DROP_ENCAP_FAILED;
		if (bpf_skb_store_bytes(skb, 0, &outer, sizeof(outer), 0) < 0)
			return -NT_DROP_ENCAP_FAILED;
	}
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) + 16 > end)
		return -NT_DROP_ENCAP_FAILED;
	nt_write_tunnel_headers(data + sizeof(struct ethhdr), end, type, seg_id, saddr, daddr,
				skb->len - sizeof(struct ethhdr), hash);
	return 0;
}

/* The FIB lookup's 64-byte parameter block, off the stack (the encap path
 * sits at the bottom of the tap program's deepest call chain). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
} nt_fib_scratch SEC(".maps");

/* Outer Ethernet header towards daddr from the FIB and neighbour table.
 * 0: written, *ifindex is the way out; 1: no neighbour entry yet;
 * negative: -(drop reason). */
NT_INLINE int nt_tc_outer_l2(struct __sk_buff *skb, __be32 saddr, __be32 daddr, __u32 *ifindex)
{
	__u32 zero = 0;
	struct bpf_fib_lookup *p = bpf_map_lookup_elem(&nt_fib_scratch, &zero);
	struct ethhdr eth;
	long r;

	if (!p)
		return -NT_DROP_NO_ROUTE;
	/* tot_len 0: the kernel checks the frame against the egress device's
	 * MTU itself, GSO-aware (a super-packet passes if its segments fit). */
	__builtin_memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->ipv4_src = saddr;
	p->ipv4_dst = daddr;
	p->ifindex = *ifindex;
	r = bpf_fib_lookup(skb, p, sizeof(*p), BPF_FIB_LOOKUP_OUTPUT);
	if (r == BPF_FIB_LKUP_RET_NO_NEIGH) {
		*ifindex = p->ifindex;
		return 1;
	}
	if (r == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return -NT_DROP_MTU_EXCEEDED;
	if (r != BPF_FIB_LKUP_RET_SUCCESS)
		return -NT_DROP_NO_ROUTE;
	__builtin_memcpy(eth.h_dest, p->dmac, NT_ETH_ALEN);
	__builtin_memcpy(eth.h_source, p->smac, NT_ETH_ALEN);
	eth.h_proto = bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) < 0)
		return -NT_DROP_ENCAP_FAILED;
	*ifindex = p->ifindex;
	return 0;
}

NT_INLINE void nt_uplink_count(__u32 ifindex, int encap, __u32 bytes)
{
	struct nt_uplink_stats *s = nt_uplink_stats_get(ifindex);

	if (s)
		nt_counter_add(encap ? &s->encap : &s->decap, bytes);
}

/* The largest IP packet this frame becomes on the network: its own length,
 * or for a GSO super-packet one segment (gso_size + its IP and L4 headers). */
NT_INLINE __u32 nt_tc_l3_seg_len(struct __sk_buff *skb)
{
	const __u32 l3 = skb->len - sizeof(struct ethhdr);
	__u32 hdr = sizeof(struct ipv6hdr), gso = skb->gso_size;
	__u8 b, proto;

	if (!gso)
		return l3;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &b, 1) < 0 ||
		    bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, protocol), &proto, 1) < 0)
			return l3;
		hdr = (b & 0xf) * 4;
	} else if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + offsetof(struct ipv6hdr, nexthdr), &proto, 1) < 0) {
		return l3;
	}
	if (proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + hdr + 12, &b, 1) < 0)
			return l3;
		return gso + hdr + (b >> 4) * 4;
	}
	return gso + hdr + sizeof(struct udphdr);
}

/* A frame too big for the network: counted, and for IPv4 with DF turned
 * into an ICMP "fragmentation needed" carrying the network's MTU, sent back
 * to the VM (path MTU discovery then shrinks its packets). The error comes
 * from `from`, or (0) from the frame's destination. */
NT_INLINE int nt_tc_too_big(struct __sk_buff *skb, __u32 mtu, __be32 from)
{
	struct iphdr ip = {};

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip, sizeof(ip)) < 0 ||
	    !(ip.frag_off & bpf_htons(0x4000)))
		return nt_tc_icmp4_back(skb, 0, 0, 0, 0, NT_DROP_MTU_EXCEEDED); /* no DF: only the drop */
	return nt_tc_icmp4_back(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu, from ? from : ip.daddr,
				NT_DROP_MTU_EXCEEDED);
}

/* Whether the frame (or each of its GSO segments) fits the network. */
NT_INLINE int nt_tc_fits(struct __sk_buff *skb, const struct nt_net *net)
{
	return !net->mtu || nt_tc_l3_seg_len(skb) <= net->mtu;
}

/* Unicast to a port on another host: tunnel or provider uplink. Returns a
 * TC action (redirect) or -(drop reason). */
NT_GLOBAL int nt_tc_send_remote(struct __sk_buff *skb, const struct nt_net *net, const struct nt_fdb_entry *e)
{
	struct nt_config *cfg = nt_host_config();
	__u32 ifindex;
	int r;

	if (!skb || !net || !e || !cfg)
		return -NT_DROP_NO_ROUTE;
	if (!nt_tc_fits(skb, net))
		return nt_tc_too_big(skb, net->mtu, 0);
	if (e->flags & NT_FDB_UPLINK) {
		if (net->type == NT_NET_VLAN &&
		    bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (__u16)net->seg_id) < 0)
			return -NT_DROP_ENCAP_FAILED;
		if (!nt_tc_tracing(skb))
			nt_uplink_count(e->ifindex, 1, skb->len);
		nt_tc_report(skb, NT_VERDICT_REDIRECT, e->ifindex, 0);
		return bpf_redirect(e->ifindex, 0);
	}
	if (!cfg->tunnel_ifindex)
		return -NT_DROP_NO_ROUTE;
	r = nt_tc_encap(skb, net->type, net->seg_id, cfg->tunnel_ip.w[3], e->vtep.w[3]);
	if (r < 0)
		return r;
	ifindex = cfg->tunnel_ifindex;
	r = nt_tc_outer_l2(skb, cfg->tunnel_ip.w[3], e->vtep.w[3], &ifindex);
	if (r < 0)
		return r;
	if (!nt_tc_tracing(skb))
		nt_uplink_count(ifindex, 1, skb->len);
	nt_tc_report(skb, NT_VERDICT_REDIRECT, ifindex, 0);
	if (r == 1) /* no neighbour yet: let the kernel resolve it (IP inner frames) */
		return bpf_redirect_neigh(ifindex, NULL, 0, 0);
	return bpf_redirect(ifindex, 0);
}

/* The remote half of flooding, after the local copies: one copy out of the
 * provider uplink, or one encapsulated copy per remote host (head-end
 * replication). Returns the copies sent. The frame is modified: the caller
 * drops it afterwards. */
struct nt_remote_walk {
	struct __sk_buff *skb;
	__u32 net_id;
	__be32 saddr;
	__be32 cur_daddr;
	__u32 tun_ifindex;
	__u32 copies;
	__u32 tracing;
};

static long nt_flood_remote_one(__u32 slot, void *arg)
{
	struct nt_remote_walk *w = arg;
	struct nt_flood_key fk = { .net_id = w->net_id, .slot = slot };
	struct nt_flood_entry *t = bpf_map_lookup_elem(&nt_flood, &fk);
	__u32 ifindex = w->tun_ifindex;
	__be32 daddr;

	if (!t || !(t->flags & NT_FDB_REMOTE))
		return 0;
	daddr = t->vtep.w[3];
	/* Retarget the outer IP header (checksum updated incrementally). */
	if (bpf_l3_csum_replace(w->skb, sizeof(struct ethhdr) + offsetof(struct iphdr, check), w->cur_daddr,
				daddr, sizeof(daddr)) < 0 ||
	    bpf_skb_store_bytes(w->skb, sizeof(struct ethhdr) + offsetof(struct iphdr, daddr), &daddr,
				sizeof(daddr), 0) < 0)
		return 1;
	w->cur_daddr = daddr;
	if (nt_tc_outer_l2(w->skb, w->saddr, daddr, &ifindex) != 0)
		return 0; /* no route or neighbour to that host yet: skip this copy */
	if (w->tracing || bpf_clone_redirect(w->skb, ifindex, 0) == 0) {
		w->copies++;
		if (!w->tracing)
			nt_uplink_count(ifindex, 1, w->skb->len);
	}
	return 0;
}

NT_GLOBAL int nt_tc_flood_remote(struct __sk_buff *skb, const struct nt_net *net, __u32 net_id)
{
	struct nt_config *cfg = nt_host_config();
	struct nt_remote_walk w = {};
	__u32 count;

	if (!skb || !net || !cfg)
		return 0;
	if (!nt_tc_fits(skb, net)) {
		if (!nt_tc_tracing(skb))
			nt_count_drop_reason(NT_DROP_MTU_EXCEEDED, skb->len);
		return 0; /* local copies only */
	}
	if (net->type == NT_NET_FLAT || net->type == NT_NET_VLAN) {
		if (!net->uplink)
			return 0;
		if (net->type == NT_NET_VLAN &&
		    bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (__u16)net->seg_id) < 0)
			return 0;
		if (nt_tc_tracing(skb) || bpf_clone_redirect(skb, net->uplink, 0) == 0) {
			if (!nt_tc_tracing(skb))
				nt_uplink_count(net->uplink, 1, skb->len);
			return 1;
		}
		return 0;
	}
	if ((net->type != NT_NET_VXLAN && net->type != NT_NET_GRE) || !cfg->tunnel_ifindex)
		return 0;
	/* Encapsulate once (towards a placeholder), then retarget per host. */
	if (nt_tc_encap(skb, net->type, net->seg_id, cfg->tunnel_ip.w[3], 0) < 0)
		return 0;
	w.skb = skb;
	w.net_id = net_id;
	w.saddr = cfg->tunnel_ip.w[3];
	w.cur_daddr = 0;
	w.tun_ifindex = cfg->tunnel_ifindex;
	w.tracing = nt_tc_tracing(skb);
	count = net->flood_count;
	if (count > NT_MAX_FLOOD_SLOTS)
		count = NT_MAX_FLOOD_SLOTS;
	bpf_loop(count, nt_flood_remote_one, &w, 0);
	return w.copies;
}

#endif

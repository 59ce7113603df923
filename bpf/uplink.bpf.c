// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on a host's uplinks: the tunnel interface (the one holding the
 * host's tunnel_ip) and the physnet uplinks of VLAN/flat networks.
 *
 *   uplink_xdp (XDP, first): tunnel packets for this host that fail the
 *     checks (bad header, unknown host, unknown VNI/key) are dropped before
 *     an skb exists; everything else passes, untouched.
 *   uplink_ingress (TC): decapsulates valid tunnel packets, pops the VLAN tag
 *     of provider frames, and hands the inner frame to the local taps (their
 *     egress programs apply the security groups). Host traffic passes.
 *     On provider networks it also answers ARP for router addresses (gateway
 *     and floating IPs on the external network), learns the external next
 *     hops from ARP, and routes frames sent to a router MAC: floating IP /
 *     SNAT translation back to the fixed address first, then the route.
 *
 * Decapsulated frames are delivered from TC rather than XDP: they must pass
 * the tap's egress program (security groups), and an XDP redirect into a veth
 * would bypass it (and needs XDP or GRO on the peer).
 */
#include "lib/common.h"
#include "lib/parse.h"
#include "lib/tunnel.h"
#include "lib/tc.h"
#include "lib/arp.h"
#include "lib/route.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

NT_INLINE void nt_uplink_drop_count(__u32 ifindex, __u32 reason, __u32 bytes)
{
	struct nt_uplink_stats *s = nt_uplink_stats_get(ifindex);

	nt_count_drop_reason(reason, bytes);
	if (s)
		nt_counter_add(&s->dropped, bytes);
}

SEC("xdp.frags")
int uplink_xdp(struct xdp_md *ctx)
{
	struct nt_tun_rx rx = {};
	int r = nt_tunnel_rx_classify((void *)(long)ctx->data, (void *)(long)ctx->data_end, bpf_xdp_get_buff_len(ctx),
				      ctx->ingress_ifindex, &rx);
	NT_BUILD_MARK();

	if (r >= 0)
		return XDP_PASS;
	nt_uplink_drop_count(ctx->ingress_ifindex, -r, ctx->data_end - ctx->data);
	nt_mon_drop_xdp_ctx(ctx, -r);
	return XDP_DROP;
}

/* A frame to a router MAC from another host: from the outside on a provider
 * network (on the external network, floating IP / SNAT back to the fixed
 * address first; ICMP errors go back out of the uplink), or from_peer: a
 * SNAT flow another host sent to this host, the router's SNAT host, over the
 * tunnel or to the router's SNAT MAC on a VLAN/flat network. */
NT_INLINE int nt_uplink_route(struct __sk_buff *skb, const struct nt_fdb_entry *rtr, __u32 net_id, __u32 from_peer)
{
	struct nt_net_key nk = { .net_id = net_id };
	struct nt_net *net = bpf_map_lookup_elem(&nt_nets, &nk);
	int r = 0;

	if (net && (net->flags & NT_NET_EXTERNAL))
		r = nt_nat_in(skb, rtr->router_id);
	if (r >= 0)
		r = nt_tc_route(skb, rtr, net_id, from_peer);
	if (r < 0)
		return nt_tc_drop(skb, NULL, -r);
	return r;
}

/* ARP on a provider network: the external network's senders are learned
 * (next hops), requests for router addresses answered back out of the
 * uplink. 1 = consumed (the verdict is in *action), 0 = deliver as usual. */
NT_INLINE int nt_uplink_arp(struct __sk_buff *skb, __u32 net_id, int *action)
{
	struct nt_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end };
	struct nt_net_key nk = { .net_id = net_id };
	struct ethhdr *eth = nt_parse_eth(&c);
	struct nt_net *net;
	struct nt_arp *arp;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_ARP))
		return 0;
	arp = nt_parse_arp(&c);
	net = bpf_map_lookup_elem(&nt_nets, &nk);
	if (!arp || !net)
		return 0;
	if ((net->flags & NT_NET_EXTERNAL) && !nt_tc_tracing(skb))
		nt_ext_learn(net_id, arp);
	if (!nt_arp_reply_in_place(eth, arp, net_id, NT_NEIGH_ROUTER))
		return 0;
	nt_tc_report(skb, NT_VERDICT_REPLY, skb->ifindex, 0);
	*action = nt_tc_back(skb);
	return 1;
}

/* Delivers a frame of net_id that arrived from another host to the local
 * taps: known unicast to its tap, the rest to every local port (never back
 * to another host: split horizon). Frames to a router MAC are routed (over
 * the tunnel or to a SNAT MAC only SNAT flows, see nt_tc_route); ARP
 * replies to a router from a provider uplink are consumed (learned). */
NT_INLINE int nt_deliver_local(struct __sk_buff *skb, __u32 net_id, int from_provider)
{
	struct nt_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end };
	struct ethhdr *eth = nt_parse_eth(&c);
	struct nt_fwd fwd = {};
	__u32 copies;

	if (!eth)
		return nt_tc_drop(skb, NULL, NT_DROP_MALFORMED);
	nt_l2_decide(net_id, eth->h_dest, skb->ifindex, &fwd);
	if (fwd.verdict == NT_VERDICT_REDIRECT)
		return nt_tc_redirect(skb, fwd.target);
	if (fwd.verdict == NT_VERDICT_ROUTE) {
		if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
			if (!from_provider)
				return nt_tc_drop(skb, NULL, NT_DROP_NO_ROUTE); /* hosts answer their own VMs */
			nt_tc_report(skb, NT_VERDICT_DELIVER, 0, 0);
			return TC_ACT_SHOT; /* an answer to the router's request: learned */
		}
		return nt_uplink_route(skb, fwd.remote, net_id,
				       !from_provider || (fwd.remote->flags & NT_FDB_SNAT_PEER));
	}
	copies = nt_tc_flood(skb, net_id, skb->ifindex);
	nt_tc_report(skb, NT_VERDICT_FLOOD, copies, 0);
	return TC_ACT_SHOT;
}

NT_INLINE void nt_uplink_rx_count(__u32 ifindex, __u32 bytes)
{
	struct nt_uplink_stats *s = nt_uplink_stats_get(ifindex);

	if (s)
		nt_counter_add(&s->decap, bytes);
}

/* A refused frame from the underlay: reported, and (outside trace mode)
 * counted under its reason and as the uplink's drop. */
NT_INLINE int nt_uplink_drop(struct __sk_buff *skb, __u32 reason)
{
	nt_tc_report(skb, NT_VERDICT_DROP, 0, reason);
	if (!nt_tc_tracing(skb)) {
		nt_uplink_drop_count(skb->ifindex, reason, skb->len);
		nt_mon_drop(skb, reason);
	}
	return TC_ACT_SHOT;
}

/* [outer eth][outer IP + UDP/VXLAN or GRE][inner eth][payload]: removes
 * everything between the outer Ethernet header and the payload (outer_len
 * bytes), then writes the inner Ethernet header in front. 0 or a drop reason. */
NT_INLINE int nt_uplink_decap(struct __sk_buff *skb, __u32 outer_len)
{
	struct ethhdr inner;

	if (bpf_skb_load_bytes(skb, outer_len, &inner, sizeof(inner)) < 0)
		return NT_DROP_BAD_TUNNEL;
	if (bpf_skb_adjust_room(skb, -(__s32)outer_len, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO) < 0)
		return NT_DROP_BAD_TUNNEL;
	if (bpf_skb_store_bytes(skb, 0, &inner, sizeof(inner), 0) < 0)
		return NT_DROP_BAD_TUNNEL;
	return 0;
}

SEC("tc")
int uplink_ingress(struct __sk_buff *skb)
{
	struct nt_provider_key pk = { .ifindex = skb->ifindex };
	struct nt_provider_net *pn;
	struct nt_tun_rx rx = {};
	__u32 len = skb->len;
	int r;
	NT_BUILD_MARK();

	/* Provider networks: the stack has already moved a VLAN tag into the
	 * skb metadata. */
	pk.vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	pn = bpf_map_lookup_elem(&nt_provider, &pk);
	nt_rx_note_start(skb, pn ? pk.vlan : 0); /* answers go back tagged as the frame came */
	if (pn) {
		if (skb->vlan_present && bpf_skb_vlan_pop(skb) < 0)
			return nt_tc_drop(skb, NULL, NT_DROP_MALFORMED);
		if (!nt_tc_tracing(skb))
			nt_uplink_rx_count(skb->ifindex, skb->len);
		if (nt_uplink_arp(skb, pn->net_id, &r))
			return r;
		return nt_deliver_local(skb, pn->net_id, 1);
	}

	/* Tunnel packets come untagged on the tunnel interface, nowhere else:
	 * a frame in a VLAN no network claims (on a physnet trunk or on the
	 * tunnel interface) is the host's, whatever it carries. */
	if (skb->vlan_present)
		return TC_ACT_OK;
	r = nt_tunnel_rx_classify((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, skb->ifindex, &rx);
	if (r == 0)
		return TC_ACT_OK; /* the host's own traffic */
	if (r < 0)
		return nt_uplink_drop(skb, -r);
	r = nt_uplink_decap(skb, rx.outer_len);
	if (r)
		return nt_uplink_drop(skb, r);
	/* Counted once decapsulated, as received: outer headers included. */
	if (!nt_tc_tracing(skb))
		nt_uplink_rx_count(skb->ifindex, len);
	return nt_deliver_local(skb, rx.net_id, 0);
}

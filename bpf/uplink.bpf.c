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
 *
 * Decapsulated frames are delivered from TC rather than XDP: they must pass
 * the tap's egress program (security groups), and an XDP redirect into a veth
 * would bypass it (and needs XDP or GRO on the peer).
 */
#include "lib/common.h"
#include "lib/parse.h"
#include "lib/tunnel.h"
#include "lib/tc.h"

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
	int r = nt_tunnel_rx_classify((void *)(long)ctx->data, (void *)(long)ctx->data_end, &rx);

	if (r >= 0)
		return XDP_PASS;
	nt_uplink_drop_count(ctx->ingress_ifindex, -r, ctx->data_end - ctx->data);
	return XDP_DROP;
}

/* Delivers a frame of net_id that arrived from another host to the local
 * taps: known unicast to its tap, the rest to every local port (never back
 * to another host: split horizon). */
NT_INLINE int nt_deliver_local(struct __sk_buff *skb, __u32 net_id)
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

SEC("tc")
int uplink_ingress(struct __sk_buff *skb)
{
	struct nt_provider_key pk = { .ifindex = skb->ifindex };
	struct nt_provider_net *pn;
	struct nt_tun_rx rx = {};
	int r;

	/* Provider networks: the stack has already moved a VLAN tag into the
	 * skb metadata. */
	pk.vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	pn = bpf_map_lookup_elem(&nt_provider, &pk);
	if (pn) {
		if (skb->vlan_present && bpf_skb_vlan_pop(skb) < 0)
			return nt_tc_drop(skb, NULL, NT_DROP_MALFORMED);
		if (!nt_tc_tracing(skb))
			nt_uplink_rx_count(skb->ifindex, skb->len);
		return nt_deliver_local(skb, pn->net_id);
	}

	r = nt_tunnel_rx_classify((void *)(long)skb->data, (void *)(long)skb->data_end, &rx);
	if (r == 0)
		return TC_ACT_OK; /* the host's own traffic */
	if (r < 0) {
		if (!nt_tc_tracing(skb))
			nt_uplink_drop_count(skb->ifindex, -r, skb->len);
		nt_tc_report(skb, NT_VERDICT_DROP, 0, -r);
		return TC_ACT_SHOT;
	}
	if (!nt_tc_tracing(skb))
		nt_uplink_rx_count(skb->ifindex, skb->len);
	/* [outer eth][outer IP + UDP/VXLAN or GRE][inner eth][payload]: remove
	 * everything between the outer Ethernet header and the payload
	 * (outer_len bytes), then write the inner Ethernet header in front. */
	{
		struct ethhdr inner;

		if (bpf_skb_load_bytes(skb, rx.outer_len, &inner, sizeof(inner)) < 0)
			return nt_tc_drop(skb, NULL, NT_DROP_BAD_TUNNEL);
		if (bpf_skb_adjust_room(skb, -(__s32)rx.outer_len, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO) < 0)
			return nt_tc_drop(skb, NULL, NT_DROP_BAD_TUNNEL);
		if (bpf_skb_store_bytes(skb, 0, &inner, sizeof(inner), 0) < 0)
			return nt_tc_drop(skb, NULL, NT_DROP_BAD_TUNNEL);
	}
	return nt_deliver_local(skb, rx.net_id);
}

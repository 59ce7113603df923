// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on a VM's tap, attached at TC (tcx where the kernel has it).
 *
 *   tap_ingress: frames the VM sends (the tap's ingress).
 *     port lookup -> admin state -> anti-spoofing -> ARP responder
 *     -> L2 decision -> redirect to a local tap | flood within the network
 *   tap_egress: frames handed to the VM (the tap's egress).
 *     port lookup -> counters -> deliver
 *
 * Security groups, DHCP, routing and tunnels are stages that slot into this
 * pipeline in their own issues.
 */
#include "lib/common.h"
#include "lib/parse.h"
#include "lib/arp.h"
#include "lib/l2.h"
#include "lib/tc.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int tap_ingress(struct __sk_buff *skb)
{
	struct nt_port_key pk = { .ifindex = skb->ifindex };
	struct nt_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end };
	struct nt_port_stats *ps = NULL;
	struct nt_fwd fwd = {};
	struct nt_port *port;
	struct ethhdr *eth;
	__u32 copies;

	port = bpf_map_lookup_elem(&nt_ports, &pk);
	if (!port)
		return nt_tc_drop(skb, NULL, NT_DROP_UNKNOWN_PORT);
	if (!nt_tc_tracing(skb)) {
		ps = nt_port_stats_get(port->port_tag);
		if (ps)
			nt_counter_add(&ps->from_vm, skb->len);
	}
	if (!(port->flags & NT_PORT_ADMIN_UP))
		return nt_tc_drop(skb, ps, NT_DROP_PORT_DOWN);

	eth = nt_parse_eth(&c);
	if (!eth)
		return nt_tc_drop(skb, ps, NT_DROP_MALFORMED);
	if ((port->flags & NT_PORT_SECURITY) && !nt_mac_eq(eth->h_source, port->mac))
		return nt_tc_drop(skb, ps, NT_DROP_SPOOFED_MAC);

	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct nt_arp *arp = nt_parse_arp(&c);

		if (!arp)
			return nt_tc_drop(skb, ps, NT_DROP_MALFORMED);
		if (nt_arp_reply_in_place(eth, arp, port->net_id)) {
			if (ps)
				nt_counter_add(&ps->arp_reply, skb->len);
			nt_tc_report(skb, NT_VERDICT_REPLY, skb->ifindex, 0);
			return bpf_redirect(skb->ifindex, 0);
		}
	}

	nt_l2_decide(port->net_id, eth->h_dest, skb->ifindex, &fwd);
	switch (fwd.verdict) {
	case NT_VERDICT_REDIRECT:
		return nt_tc_redirect(skb, fwd.target);
	case NT_VERDICT_FLOOD:
		copies = nt_tc_flood(skb, port->net_id, skb->ifindex);
		if (!copies)
			return nt_tc_drop(skb, ps, NT_DROP_NO_FLOOD_TARGET);
		if (ps)
			nt_counter_add(&ps->flooded, skb->len);
		nt_tc_report(skb, NT_VERDICT_FLOOD, copies, 0);
		return TC_ACT_SHOT; /* the clones carry the frame */
	default:
		return nt_tc_drop(skb, ps, fwd.reason);
	}
}

SEC("tc")
int tap_egress(struct __sk_buff *skb)
{
	struct nt_port_key pk = { .ifindex = skb->ifindex };
	struct nt_port *port = bpf_map_lookup_elem(&nt_ports, &pk);
	struct nt_port_stats *ps;

	if (!port)
		return nt_tc_drop(skb, NULL, NT_DROP_UNKNOWN_PORT);
	if (!nt_tc_tracing(skb)) {
		ps = nt_port_stats_get(port->port_tag);
		if (ps)
			nt_counter_add(&ps->to_vm, skb->len);
	}
	nt_tc_report(skb, NT_VERDICT_DELIVER, skb->ifindex, 0);
	return TC_ACT_OK;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on a VM's tap, attached at TC (tcx where the kernel has it).
 *
 *   tap_ingress: frames the VM sends (the tap's ingress), Neutron "egress".
 *     port -> admin state -> source MAC -> ARP: sender check, responder
 *     | IP: source IP, no DHCP server, conntrack + security groups
 *     -> L2: redirect to a local tap | flood within the network
 *        | to a router MAC: route (route.h), then L2 on the egress network
 *   tap_egress: frames handed to the VM (the tap's egress), Neutron "ingress".
 *     port -> IP: conntrack + security groups -> deliver
 *
 * Ports without port security skip every check, as in Neutron.
 */
#include "lib/common.h"
#include "lib/parse.h"
#include "lib/l3.h"
#include "lib/antispoof.h"
#include "lib/arp.h"
#include "lib/conntrack.h"
#include "lib/dhcp.h"
#include "lib/l2.h"
#include "lib/tc.h"
#include "lib/send_tc.h"
#include "lib/route.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

NT_INLINE struct nt_flow *nt_scratch_flow(__u32 slot)
{
	struct nt_flow *f = bpf_map_lookup_elem(&nt_scratch, &slot);

	if (f)
		__builtin_memset(f, 0, sizeof(*f));
	return f;
}

/* Parses the IP packet behind the Ethernet header; `bytes` is what the frame
 * holds after it (skb->len: the linear data may be shorter), so a total
 * length claiming more is malformed. 1 = IP, 0 = not IP, negative =
 * truncated or inconsistent. */
NT_INLINE int nt_parse_ip(struct nt_cursor *c, __be16 proto, struct nt_flow *f, __u32 bytes)
{
	if (proto == bpf_htons(ETH_P_IP))
		return nt_parse_ipv4_within(c, f, bytes) < 0 ? -1 : 1;
	if (proto == bpf_htons(ETH_P_IPV6))
		return nt_parse_ipv6(c, f) < 0 ? -1 : 1;
	return 0;
}

/* Port-security checks of a frame leaving the VM; 0 or a drop reason.
 * Global, so its parse x policy paths are verified once. */
NT_GLOBAL int nt_from_vm_checks(struct __sk_buff *skb, const struct nt_port *port)
{
	struct nt_cursor cur = { (void *)(long)skb->data, (void *)(long)skb->data_end };
	struct nt_cursor *c = &cur;
	struct nt_flow *f = nt_scratch_flow(NT_SCRATCH_FROM_VM);
	struct ethhdr *eth;
	int r;

	if (!port || !f)
		return NT_DROP_UNKNOWN_PORT;
	eth = nt_parse_eth(c);
	if (!eth)
		return NT_DROP_MALFORMED;
	r = nt_antispoof_mac(port, eth->h_source);
	if (r)
		return r;
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct nt_cursor ac = *c;
		struct nt_arp *arp = nt_parse_arp(&ac);

		if (!arp)
			return NT_DROP_MALFORMED;
		return nt_antispoof_arp(port, arp);
	}
	r = nt_parse_ip(c, eth->h_proto, f, skb->len - sizeof(struct ethhdr));
	if (r == 0)
		return NT_DROP_ETHERTYPE;
	if (r < 0)
		return NT_DROP_MALFORMED;
	r = nt_antispoof_ip(port, eth->h_source, f);
	if (r)
		return r;
	if (nt_is_dhcp_server_reply(f))
		return NT_DROP_DHCP_SERVER;
	return nt_ct_policy(port, NT_DIR_FROM_VM, f, skb->len, !nt_tc_tracing(skb));
}

/* Trace mode: the security-group decision of this program in skb->mark
 * (rule) and skb->priority (enum nt_trace_policy), see abi.h. The note is
 * cleared first, so a packet the policy never sees (ARP) reports none. */
NT_INLINE void nt_trace_policy_begin(struct __sk_buff *skb, __u8 dir)
{
	if (nt_tc_tracing(skb))
		nt_ct_note_reset(dir);
}

NT_INLINE void nt_trace_policy_report(struct __sk_buff *skb, const struct nt_port *port, __u8 dir)
{
	__u32 rule = 0;

	if (!nt_tc_tracing(skb))
		return;
	if (!(port->flags & NT_PORT_SECURITY)) {
		skb->mark = 0;
		skb->priority = NT_TRACE_POLICY_OFF;
		return;
	}
	skb->priority = nt_ct_noted(dir, &rule);
	skb->mark = rule;
}

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
	int r;
	NT_BUILD_MARK();

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

	if (port->flags & NT_PORT_SECURITY) {
		nt_trace_policy_begin(skb, NT_DIR_FROM_VM);
		r = nt_from_vm_checks(skb, port);
		nt_trace_policy_report(skb, port, NT_DIR_FROM_VM);
		if (r)
			return nt_tc_drop(skb, ps, r);
	} else {
		nt_trace_policy_report(skb, port, NT_DIR_FROM_VM);
	}
	r = nt_dhcp_answer(skb, port);
	if (r < 0)
		return nt_tc_drop(skb, ps, -r);
	if (r > 0) {
		nt_tc_report(skb, NT_VERDICT_REPLY, skb->ifindex, 0);
		return bpf_redirect(skb->ifindex, 0);
	}

	c.pos = (void *)(long)skb->data; /* the DHCP stage may have moved the data */
	c.end = (void *)(long)skb->data_end;
	eth = nt_parse_eth(&c);
	if (!eth)
		return nt_tc_drop(skb, ps, NT_DROP_MALFORMED);

	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct nt_arp *arp = nt_parse_arp(&c);

		if (!arp)
			return nt_tc_drop(skb, ps, NT_DROP_MALFORMED);
		if (nt_arp_reply_in_place(eth, arp, port->net_id, 0xffff)) {
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
	case NT_VERDICT_REMOTE: {
		struct nt_net_key nk = { .net_id = port->net_id };
		struct nt_net *net = bpf_map_lookup_elem(&nt_nets, &nk);

		r = net ? nt_tc_send_remote(skb, net, fwd.remote) : -NT_DROP_NO_ROUTE;
		if (r < 0)
			return nt_tc_drop(skb, ps, -r);
		return r;
	}
	case NT_VERDICT_ROUTE:
		r = nt_tc_route(skb, fwd.remote, port->net_id, 0);
		if (r < 0)
			return nt_tc_drop(skb, ps, -r);
		return r;
	case NT_VERDICT_FLOOD: {
		struct nt_net_key nk = { .net_id = port->net_id };
		struct nt_net *net;

		copies = nt_tc_flood(skb, port->net_id, skb->ifindex);
		net = bpf_map_lookup_elem(&nt_nets, &nk);
		if (net)
			copies += nt_tc_flood_remote(skb, net, port->net_id);
		if (!copies)
			return nt_tc_drop(skb, ps, NT_DROP_NO_FLOOD_TARGET);
		if (ps)
			nt_counter_add(&ps->flooded, skb->len);
		nt_tc_report(skb, NT_VERDICT_FLOOD, copies, 0);
		return TC_ACT_SHOT; /* the clones carry the frame */
	}
	default:
		return nt_tc_drop(skb, ps, fwd.reason);
	}
}

/* Port-security checks of a frame entering the VM; 0 or a drop reason. */
NT_GLOBAL int nt_to_vm_checks(struct __sk_buff *skb, const struct nt_port *port)
{
	struct nt_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end };
	struct nt_flow *f = nt_scratch_flow(NT_SCRATCH_TO_VM);
	struct ethhdr *eth = nt_parse_eth(&c);
	int r;

	if (!port || !f)
		return NT_DROP_UNKNOWN_PORT;
	if (!eth)
		return NT_DROP_MALFORMED;
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return 0;
	r = nt_parse_ip(&c, eth->h_proto, f, skb->len - sizeof(struct ethhdr));
	if (r == 0)
		return NT_DROP_ETHERTYPE;
	if (r < 0)
		return NT_DROP_MALFORMED;
	return nt_ct_policy(port, NT_DIR_TO_VM, f, skb->len, !nt_tc_tracing(skb));
}

SEC("tc")
int tap_egress(struct __sk_buff *skb)
{
	struct nt_port_key pk = { .ifindex = skb->ifindex };
	struct nt_port *port = bpf_map_lookup_elem(&nt_ports, &pk);
	struct nt_port_stats *ps = NULL;
	int r;
	NT_BUILD_MARK();

	if (!port)
		return nt_tc_drop(skb, NULL, NT_DROP_UNKNOWN_PORT);
	if (!nt_tc_tracing(skb))
		ps = nt_port_stats_get(port->port_tag);
	if (!(port->flags & NT_PORT_ADMIN_UP))
		return nt_tc_drop(skb, ps, NT_DROP_PORT_DOWN);
	if (port->flags & NT_PORT_SECURITY) {
		nt_trace_policy_begin(skb, NT_DIR_TO_VM);
		r = nt_to_vm_checks(skb, port);
		nt_trace_policy_report(skb, port, NT_DIR_TO_VM);
		if (r)
			return nt_tc_drop(skb, ps, r);
	} else {
		nt_trace_policy_report(skb, port, NT_DIR_TO_VM);
	}
	if (ps)
		nt_counter_add(&ps->to_vm, skb->len);
	nt_tc_report(skb, NT_VERDICT_DELIVER, skb->ifindex, 0);
	return TC_ACT_OK;
}

/* Run once by the loader (BPF_PROG_TEST_RUN) to start the conntrack GC. */
SEC("tc")
int ct_gc_arm(struct __sk_buff *skb __attribute__((unused)))
{
	return nt_ct_gc_arm();
}

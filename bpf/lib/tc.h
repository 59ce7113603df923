/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The TC context layer: turns context-free decisions into skb actions
 * (redirect, clone-flood, drop) and implements trace mode (see abi.h). */
#ifndef NT_BPF_TC_H
#define NT_BPF_TC_H

#include "l2.h"
#include "stats.h"
#include "monitor.h"

NT_INLINE int nt_tc_tracing(const struct __sk_buff *skb)
{
	return skb->cb[0] == NT_TRACE_MAGIC0 && skb->cb[1] == NT_TRACE_MAGIC1;
}

NT_INLINE void nt_tc_report(struct __sk_buff *skb, __u32 verdict, __u32 target, __u32 reason)
{
	if (!nt_tc_tracing(skb))
		return;
	skb->cb[2] = verdict;
	skb->cb[3] = target;
	skb->cb[4] = reason;
}

/* The one way out for a dropped packet: reason counter, port counter, the
 * monitor's event, and the trace report. */
NT_INLINE int nt_tc_drop(struct __sk_buff *skb, struct nt_port_stats *ps, __u32 reason)
{
	nt_tc_report(skb, NT_VERDICT_DROP, 0, reason);
	if (!nt_tc_tracing(skb)) {
		nt_count_drop_reason(reason, skb->len);
		if (ps)
			nt_counter_add(&ps->dropped, skb->len);
		nt_mon_drop(skb, reason);
	}
	return TC_ACT_SHOT;
}

NT_INLINE int nt_tc_redirect(struct __sk_buff *skb, __u32 ifindex)
{
	nt_tc_report(skb, NT_VERDICT_REDIRECT, ifindex, 0);
	return bpf_redirect(ifindex, 0);
}

/* ---- What an uplink frame came as ---------------------------------------------
 * A frame answered in place (ICMP error, echo reply, ARP reply) leaves by the
 * interface it came in, and an ICMP error must quote what its sender sent.
 * On an uplink both can differ from the frame the datapath holds: the stack
 * moved a VLAN tag into the skb metadata and uplink_ingress popped it, and
 * nt_nat_in may have translated the destination. uplink_ingress starts this
 * note for every frame, under the uplink's index (a tap's frame never
 * matches it); nt_tc_back puts the tag back, nt_tc_icmp4_error the quoted
 * destination. Per CPU: one program run at a time. */
struct nt_rx_note {
	__u32 ifindex;
	__u32 vlan; /* 0: untagged */
	__u32 nat;  /* 1: the destination was translated, from orig_* to now_* */
	__be32 orig_addr;
	__be32 now_addr;
	__be16 orig_port; /* TCP/UDP destination port or ICMP echo id */
	__be16 now_port;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_rx_note);
} nt_rx_note SEC(".maps");

NT_INLINE void nt_rx_note_start(const struct __sk_buff *skb, __u32 vlan)
{
	__u32 zero = 0;
	struct nt_rx_note *n = bpf_map_lookup_elem(&nt_rx_note, &zero);

	if (n) {
		__builtin_memset(n, 0, sizeof(*n));
		n->ifindex = skb->ifindex;
		n->vlan = vlan;
	}
}

NT_INLINE void nt_rx_note_nat(const struct __sk_buff *skb, __be32 orig_addr, __be16 orig_port, __be32 now_addr,
			      __be16 now_port)
{
	__u32 zero = 0;
	struct nt_rx_note *n = bpf_map_lookup_elem(&nt_rx_note, &zero);

	if (n && n->ifindex == skb->ifindex) {
		n->nat = 1;
		n->orig_addr = orig_addr;
		n->orig_port = orig_port;
		n->now_addr = now_addr;
		n->now_port = now_port;
	}
}

/* Redirects skb back out of the interface it came in, tagged as it came. */
NT_INLINE int nt_tc_back(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct nt_rx_note *t = bpf_map_lookup_elem(&nt_rx_note, &zero);

	if (t && t->vlan && t->ifindex == skb->ifindex &&
	    bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (__u16)t->vlan) < 0)
		return nt_tc_drop(skb, NULL, NT_DROP_ENCAP_FAILED);
	return bpf_redirect(skb->ifindex, 0);
}

/* Head-end replication inside the network: one clone per flood slot, except
 * back to the ingress port. bpf_loop keeps verification cost independent of
 * the slot count. Returns the copies sent (or, when tracing, that would be). */
struct nt_flood_walk {
	struct __sk_buff *skb;
	__u32 net_id;
	__u32 in_ifindex;
	__u32 copies;
	__u32 tracing;
};

static long nt_flood_one(__u32 slot, void *arg)
{
	struct nt_flood_walk *w = arg;
	struct nt_flood_key fk = { .net_id = w->net_id, .slot = slot };
	struct nt_flood_entry *t = bpf_map_lookup_elem(&nt_flood, &fk);

	if (!t || !(t->flags & NT_FDB_LOCAL) || t->ifindex == w->in_ifindex)
		return 0;
	if (w->tracing || bpf_clone_redirect(w->skb, t->ifindex, 0) == 0)
		w->copies++;
	return 0;
}

NT_INLINE __u32 nt_tc_flood(struct __sk_buff *skb, __u32 net_id, __u32 in_ifindex)
{
	struct nt_net_key nk = { .net_id = net_id };
	struct nt_net *net = bpf_map_lookup_elem(&nt_nets, &nk);
	struct nt_flood_walk w = {
		.skb = skb, .net_id = net_id, .in_ifindex = in_ifindex,
		.tracing = nt_tc_tracing(skb),
	};
	__u32 count;

	if (!net)
		return 0;
	count = net->flood_count;
	if (count > NT_MAX_FLOOD_SLOTS)
		count = NT_MAX_FLOOD_SLOTS;
	bpf_loop(count, nt_flood_one, &w, 0);
	return w.copies;
}

#endif

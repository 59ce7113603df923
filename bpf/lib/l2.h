/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The L2 core: where does a frame with this destination MAC go inside its
 * network? Context-free (a decision, not an action) so the tap TC programs
 * and the uplink programs share it. */
#ifndef NT_BPF_L2_H
#define NT_BPF_L2_H

#include "maps.h"

/* A forwarding decision, acted upon by the caller's context layer. */
struct nt_fwd {
	__u32 verdict; /* enum nt_verdict */
	__u32 target;  /* REDIRECT: ifindex */
	__u32 reason;  /* DROP: enum nt_drop_reason */
	const struct nt_fdb_entry *remote; /* REMOTE: where the MAC lives; ROUTE: the router */
};

NT_INLINE void nt_fwd_drop(struct nt_fwd *f, __u32 reason)
{
	f->verdict = NT_VERDICT_DROP;
	f->reason = reason;
}

/* Known unicast goes to its port; group addresses and unknown unicast flood
 * within the network only: the FDB key carries net_id, so two networks with
 * the same MACs or IPs never meet. */
NT_INLINE void nt_l2_decide(__u32 net_id, const __u8 *dst, __u32 in_ifindex, struct nt_fwd *f)
{
	struct nt_fdb_key key = { .net_id = net_id };
	struct nt_fdb_entry *e;

	if (nt_mac_is_multicast(dst)) {
		f->verdict = NT_VERDICT_FLOOD;
		return;
	}
	nt_mac_copy(key.mac, dst);
	e = bpf_map_lookup_elem(&nt_fdb, &key);
	if (e && (e->flags & (NT_FDB_REMOTE | NT_FDB_UPLINK))) {
		f->verdict = NT_VERDICT_REMOTE;
		f->remote = e;
		return;
	}
	if (e && (e->flags & NT_FDB_ROUTER)) {
		f->verdict = NT_VERDICT_ROUTE;
		f->remote = e;
		return;
	}
	if (!e || !(e->flags & NT_FDB_LOCAL)) {
		f->verdict = NT_VERDICT_FLOOD; /* unknown unicast */
		return;
	}
	if (e->ifindex == in_ifindex) {
		nt_fwd_drop(f, NT_DROP_LOOP);
		return;
	}
	f->verdict = NT_VERDICT_REDIRECT;
	f->target = e->ifindex;
}

#endif

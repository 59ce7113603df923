/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Stateful security policy: connection tracking in front of the
 * security-group classifier.
 *
 *   existing flow  -> re-check if the port's policy changed, TCP state, allow
 *   ICMP error     -> allowed when it quotes a tracked flow
 *   new flow       -> TCP must start with a SYN; a rule must allow it;
 *                     tracked (or refused when the table is full)
 *   later fragment -> allowed only if its first fragment was
 *
 * side_effects = 0 (trace mode) reads the tables and decides identically but
 * writes nothing. */
#ifndef NT_BPF_CONNTRACK_H
#define NT_BPF_CONNTRACK_H

#include "secgroup.h"

#define NT_NS_PER_SEC 1000000000ull
#define NT_FRAG_TIMEOUT_NS (30 * NT_NS_PER_SEC)

NT_INLINE __u64 nt_ct_lifetime_ns(__u8 proto, const struct nt_ct_entry *e)
{
	__u64 s;

	if (proto == IPPROTO_TCP) {
		switch (e->state) {
		case NT_CT_ESTABLISHED: s = NT_CT_TIMEOUT_ESTABLISHED; break;
		case NT_CT_FIN_WAIT:
		case NT_CT_CLOSING: s = NT_CT_TIMEOUT_FIN; break;
		case NT_CT_CLOSED: s = NT_CT_TIMEOUT_CLOSED; break;
		default: s = NT_CT_TIMEOUT_SYN; break;
		}
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		s = NT_CT_TIMEOUT_ICMP;
	} else {
		s = (e->flags & NT_CT_F_REPLY_SEEN) ? NT_CT_TIMEOUT_UDP : NT_CT_TIMEOUT_UDP_UNREPLIED;
	}
	return s * NT_NS_PER_SEC;
}

NT_INLINE int nt_ct_expired(__u8 proto, const struct nt_ct_entry *e, __u64 now)
{
	return now > e->last_seen_ns && now - e->last_seen_ns > nt_ct_lifetime_ns(proto, e);
}

NT_INLINE void nt_ct_key_of(struct nt_ct_key *k, __u32 zone, const struct nt_tuple *t)
{
	k->zone = zone;
	k->proto = t->proto;
	k->family = t->family;
	k->pad[0] = 0;
	k->pad[1] = 0;
	k->src = t->src;
	k->dst = t->dst;
	k->sport = t->sport;
	k->dport = t->dport;
}

NT_INLINE struct nt_ct_work *nt_ct_work_of(__u8 dir)
{
	__u32 slot = dir == NT_DIR_FROM_VM ? NT_SCRATCH_FROM_VM : NT_SCRATCH_TO_VM;

	return bpf_map_lookup_elem(&nt_ct_scratch, &slot);
}

/* TCP state after a packet of a tracked flow; -1 = invalid for that state. */
NT_INLINE int nt_ct_tcp_next(struct nt_ct_entry *e, int reply, __u8 fl)
{
	if (fl & NT_TCP_RST)
		return NT_CT_CLOSED;
	switch (e->state) {
	case NT_CT_SYN_SENT:
		if (reply && (fl & NT_TCP_SYN) && (fl & NT_TCP_ACK))
			return NT_CT_SYN_RECV;
		return e->state;
	case NT_CT_SYN_RECV:
		if (!reply && (fl & NT_TCP_ACK) && !(fl & NT_TCP_SYN))
			return NT_CT_ESTABLISHED;
		return e->state;
	case NT_CT_CLOSED:
		/* The same tuple opening again (port reuse) starts over. */
		if (!reply && (fl & NT_TCP_SYN) && !(fl & NT_TCP_ACK))
			return NT_CT_SYN_SENT;
		return -1;
	default:
		if (fl & NT_TCP_FIN) {
			__u8 both = e->flags | (reply ? NT_CT_F_FIN_REPLY : NT_CT_F_FIN_ORIG);

			if ((both & NT_CT_F_FIN_ORIG) && (both & NT_CT_F_FIN_REPLY))
				return NT_CT_CLOSING;
			return NT_CT_FIN_WAIT;
		}
		return e->state;
	}
}

NT_INLINE void nt_frag_key_of(struct nt_frag_key *k, __u32 zone, __u8 dir, const struct nt_flow *f)
{
	k->zone = zone;
	k->proto = f->t.proto;
	k->family = f->t.family;
	k->dir = dir;
	k->pad = 0;
	k->id = f->frag_id;
	k->src = f->t.src;
	k->dst = f->t.dst;
}

NT_INLINE void nt_frag_remember(struct nt_frag_key *k, __u32 zone, __u8 dir, const struct nt_flow *f,
				__u32 rule_tag, __u64 now)
{
	struct nt_frag_entry v = { .seen_ns = now, .rule_tag = rule_tag };

	nt_frag_key_of(k, zone, dir, f);
	bpf_map_update_elem(&nt_frags, k, &v, BPF_ANY);
}

/* An ICMP error is related to the flow it quotes, in either orientation. */
NT_GLOBAL int nt_ct_related(__u32 zone, const struct nt_flow *f)
{
	struct nt_tuple rev;
	struct nt_ct_key k;

	if (!f)
		return 0;
	nt_ct_key_of(&k, zone, &f->quoted);
	if (bpf_map_lookup_elem(&nt_ct, &k))
		return 1;
	nt_tuple_reverse(&f->quoted, &rev);
	nt_ct_key_of(&k, zone, &rev);
	return bpf_map_lookup_elem(&nt_ct, &k) != NULL;
}

/* What admitted the packet, for trace mode (the caller reports it). */
NT_INLINE void nt_ct_note(struct nt_ct_work *w, __u32 how, __u32 rule)
{
	w->trace_how = how;
	w->trace_rule = rule;
}

/* Clears the note before a policy decision... */
NT_INLINE void nt_ct_note_reset(__u8 dir)
{
	struct nt_ct_work *w = nt_ct_work_of(dir);

	if (w)
		nt_ct_note(w, NT_TRACE_POLICY_NONE, 0);
}

/* ...and reads it afterwards: *rule and the enum nt_trace_policy. */
NT_INLINE __u32 nt_ct_noted(__u8 dir, __u32 *rule)
{
	struct nt_ct_work *w = nt_ct_work_of(dir);

	*rule = w ? w->trace_rule : 0;
	return w ? w->trace_how : NT_TRACE_POLICY_NONE;
}

/* A tracked flow: policy re-check, state, bookkeeping. 0 or a drop reason;
 * *rule: the rule the flow stands on (trace mode reports it). */
NT_INLINE int nt_ct_existing(const struct nt_port *port, struct nt_ct_entry *e, const struct nt_ct_key *k,
			     int reply, const struct nt_flow *f, int side_effects, __u64 now, __u32 *rule_out)
{
	int next;

	*rule_out = e->rule_tag;
	if (e->policy_gen != port->policy_gen) {
		/* The key is the flow's first packet; re-ask the classifier. */
		struct nt_tuple orig = {
			.src = k->src, .dst = k->dst, .sport = k->sport, .dport = k->dport,
			.proto = k->proto, .family = k->family, .sg_port = e->sg_port,
		};
		__u32 rule = nt_sg_classify(port->policy_id, e->origin, &orig);

		if (!rule) {
			if (side_effects)
				bpf_map_delete_elem(&nt_ct, k);
			return NT_DROP_POLICY_REVOKED;
		}
		*rule_out = rule;
		if (side_effects) {
			e->policy_gen = port->policy_gen;
			e->rule_tag = rule;
		}
	}
	if (f->t.proto == IPPROTO_TCP && f->l4_ok) {
		next = nt_ct_tcp_next(e, reply, f->tcp_flags);
		if (next < 0)
			return NT_DROP_CT_INVALID;
		if (side_effects) {
			if (e->state == NT_CT_CLOSED && next == NT_CT_SYN_SENT)
				e->flags = 0;
			if (f->tcp_flags & NT_TCP_FIN)
				e->flags |= reply ? NT_CT_F_FIN_REPLY : NT_CT_F_FIN_ORIG;
			e->state = next;
		}
	} else if (side_effects && reply && e->state == NT_CT_UNREPLIED) {
		e->state = NT_CT_ESTABLISHED;
	}
	if (side_effects) {
		e->last_seen_ns = now;
		e->packets++;
		if (reply)
			e->flags |= NT_CT_F_REPLY_SEEN;
	}
	return 0;
}

/* Starts tracking a flow a rule admitted. 0 or a drop reason (table full).
 * A function of its own to keep nt_ct_policy's stack frame small. */
NT_GLOBAL int nt_ct_track_new(const struct nt_port *port, __u8 dir, const struct nt_flow *f, __u32 rule,
			      __u32 bytes)
{
	__u64 now = bpf_ktime_get_ns();
	struct nt_ct_work *w = nt_ct_work_of(dir);
	struct nt_ct_entry *ne;
	int err;

	if (!port || !f || !w)
		return NT_DROP_MALFORMED;
	ne = &w->ne;
	__builtin_memset(ne, 0, sizeof(*ne));
	ne->created_ns = now;
	ne->last_seen_ns = now;
	ne->packets = 1;
	ne->rule_tag = rule;
	ne->policy_gen = port->policy_gen;
	ne->state = f->t.proto == IPPROTO_TCP ? NT_CT_SYN_SENT : NT_CT_UNREPLIED;
	ne->origin = dir;
	ne->sg_port = f->t.sg_port;
	nt_ct_key_of(&w->k, port->port_tag, &f->t);
	err = bpf_map_update_elem(&nt_ct, &w->k, ne, BPF_NOEXIST);
	if (err == -E2BIG || err == -ENOMEM)
		return NT_DROP_CT_FULL;
	nt_rule_hit(rule, bytes);
	if (f->frag == NT_FRAG_FIRST)
		nt_frag_remember(&w->fk, port->port_tag, dir, f, rule, now);
	return 0;
}

/* The policy decision for an IP packet on a port with port security. */
NT_GLOBAL int nt_ct_policy(const struct nt_port *port, __u8 dir, const struct nt_flow *f, __u32 bytes,
			   int side_effects)
{
	__u64 now = bpf_ktime_get_ns();
	struct nt_ct_work *w = nt_ct_work_of(dir);
	__u32 zone;
	struct nt_ct_entry *e;
	struct nt_ct_key *k;
	__u32 rule;
	int reply = 0, err;

	if (!port || !f || !w)
		return NT_DROP_MALFORMED;
	zone = port->port_tag;
	k = &w->k;
	if (f->frag == NT_FRAG_LATER) {
		struct nt_frag_entry *fe;

		nt_frag_key_of(&w->fk, zone, dir, f);
		fe = bpf_map_lookup_elem(&nt_frags, &w->fk);
		if (!fe || now - fe->seen_ns > NT_FRAG_TIMEOUT_NS)
			return NT_DROP_FRAGMENT;
		nt_ct_note(w, NT_TRACE_POLICY_FRAGMENT, fe->rule_tag);
		return 0;
	}
	if (!f->l4_ok)
		return NT_DROP_MALFORMED;
	if (nt_sg_builtin_allow(dir, f)) {
		nt_ct_note(w, NT_TRACE_POLICY_BUILTIN, 0);
		return 0;
	}

	nt_ct_key_of(k, zone, &f->t);
	e = bpf_map_lookup_elem(&nt_ct, k);
	if (!e) {
		nt_tuple_reverse(&f->t, &w->rev);
		nt_ct_key_of(k, zone, &w->rev);
		e = bpf_map_lookup_elem(&nt_ct, k);
		reply = 1;
	}
	if (e && nt_ct_expired(k->proto, e, now)) {
		if (side_effects)
			bpf_map_delete_elem(&nt_ct, k);
		e = NULL;
	}
	if (e) {
		err = nt_ct_existing(port, e, k, reply, f, side_effects, now, &rule);
		if (err)
			return err;
		nt_ct_note(w, reply ? NT_TRACE_POLICY_REPLY : NT_TRACE_POLICY_ESTABLISHED, rule);
		if (side_effects && f->frag == NT_FRAG_FIRST)
			nt_frag_remember(&w->fk, zone, dir, f, e->rule_tag, now);
		return 0;
	}

	if (f->icmp_error && nt_ct_related(zone, f)) {
		nt_ct_note(w, NT_TRACE_POLICY_RELATED, 0);
		return 0;
	}
	if (f->t.proto == IPPROTO_TCP &&
	    (f->tcp_flags & (NT_TCP_SYN | NT_TCP_ACK | NT_TCP_RST)) != NT_TCP_SYN)
		return NT_DROP_CT_INVALID; /* only a SYN opens a connection */

	rule = nt_sg_classify(port->policy_id, dir, &f->t);
	if (!rule)
		return NT_DROP_SG_NO_MATCH;
	nt_ct_note(w, NT_TRACE_POLICY_NEW, rule);
	if (!side_effects)
		return 0;
	return nt_ct_track_new(port, dir, f, rule, bytes);
}

/* ---- Garbage collection: a BPF timer sweeps expired entries ---------------- */
struct bpf_map;

struct nt_ct_gc_walk {
	__u64 now;
	__u64 expired;
};

static long nt_ct_gc_visit(struct bpf_map *map, struct nt_ct_key *k, struct nt_ct_entry *e,
			   struct nt_ct_gc_walk *w)
{
	if (nt_ct_expired(k->proto, e, w->now) && bpf_map_delete_elem(map, k) == 0)
		w->expired++;
	return 0;
}

/* SNAT bindings expire with the conntrack timeouts of their protocol and
 * state; a binding is its OUT entry plus the IN entry it names, removed
 * together (IN first, so the port is free only once nothing maps to it). */
NT_INLINE __u64 nt_nat_timeout_ns(__u8 proto, __u8 state, int replied)
{
	__u64 s;

	if (proto == IPPROTO_TCP)
		s = state == NT_NAT_CLOSING ? NT_CT_TIMEOUT_FIN : replied ? NT_CT_TIMEOUT_ESTABLISHED : NT_CT_TIMEOUT_SYN;
	else if (proto == IPPROTO_UDP)
		s = replied ? NT_CT_TIMEOUT_UDP : NT_CT_TIMEOUT_UDP_UNREPLIED;
	else
		s = NT_CT_TIMEOUT_ICMP;
	return s * NT_NS_PER_SEC;
}

static long nt_nat_gc_visit(struct bpf_map *map, struct nt_nat_key *k, struct nt_nat_entry *e,
			    struct nt_ct_gc_walk *w)
{
	struct nt_nat_key in = {
		.router_id = k->router_id, .proto = k->proto, .dir = NT_NAT_IN,
		.src = k->dst, .dst = e->addr, .sport = k->dport, .dport = e->port,
	};
	struct nt_nat_entry *ie;
	__u64 last = e->seen_ns;

	if (k->dir != NT_NAT_OUT)
		return 0;
	if (k->proto == IPPROTO_ICMP)
		in.sport = e->port;
	ie = bpf_map_lookup_elem(&nt_nat, &in);
	if (ie && ie->seen_ns > last)
		last = ie->seen_ns;
	if (w->now - last <= nt_nat_timeout_ns(k->proto, e->state, ie && ie->seen_ns))
		return 0;
	bpf_map_delete_elem(&nt_nat, &in);
	if (bpf_map_delete_elem(map, k) == 0)
		w->expired++;
	return 0;
}

static int nt_ct_gc_fire(void *map __attribute__((unused)), __u32 *key __attribute__((unused)),
			 struct nt_ct_gc_state *s)
{
	struct nt_ct_gc_walk w = { .now = bpf_ktime_get_ns() };

	bpf_for_each_map_elem(&nt_ct, nt_ct_gc_visit, &w, 0);
	bpf_for_each_map_elem(&nt_nat, nt_nat_gc_visit, &w, 0);
	s->stats.runs++;
	s->stats.expired += w.expired;
	s->stats.last_run_ns = w.now;
	bpf_timer_start(&s->timer, NT_CT_GC_INTERVAL_SEC * NT_NS_PER_SEC, 0);
	return 0;
}

/* Arms the GC timer (idempotent). The timer lives in a pinned map, so it
 * keeps running without any userspace process; it stops when the instance's
 * maps are destroyed. */
NT_INLINE int nt_ct_gc_arm(void)
{
	__u32 key = 0;
	struct nt_ct_gc_state *s = bpf_map_lookup_elem(&nt_ct_gc, &key);
	int err;

	if (!s)
		return -1;
	err = bpf_timer_init(&s->timer, &nt_ct_gc, 1 /* CLOCK_MONOTONIC */);
	if (err && err != -EBUSY)
		return err;
	err = bpf_timer_set_callback(&s->timer, nt_ct_gc_fire);
	if (err)
		return err;
	return bpf_timer_start(&s->timer, NT_CT_GC_INTERVAL_SEC * NT_NS_PER_SEC, 0);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* NAT at a router's external side (TC), IPv4: floating IPs (stateless 1:1,
 * any protocol) and default SNAT (a binding per flow, TCP/UDP/ICMP echo).
 * Outbound runs after the route lookup on the VM's tap, inbound before it on
 * the external network's uplink, so the security groups of the VM's tap
 * always see the fixed address, as in Neutron. */
#ifndef NT_BPF_NAT_H
#define NT_BPF_NAT_H

#include "csum.h"
#include "l3.h"
#include "maps.h"
#include "tc.h"

#define NT_NAT_IP_OFF sizeof(struct ethhdr)
#define NT_SNAT_TRIES 32 /* ports probed per new flow before nat-exhausted */

/* Where a packet's ports (or ICMP echo id) and L4 checksum are. */
struct nt_nat_l4 {
	__u32 l4_off;
	__u32 csum_off; /* 0: no L4 header to fix (a later fragment, another protocol) */
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 has_ports; /* TCP/UDP ports or an ICMP echo id: SNAT can bind it */
	__u8 tcp_flags;
	__u8 icmp_type;
};

NT_INLINE int nt_nat_parse(struct __sk_buff *skb, const struct iphdr *ip, struct nt_nat_l4 *l4)
{
	__u8 icmp_type;
	__be16 ports[2];

	l4->proto = ip->protocol;
	l4->l4_off = NT_NAT_IP_OFF + ip->ihl * 4;
	if (ip->frag_off & bpf_htons(0x1fff))
		return 0; /* a later fragment: addresses only */
	switch (ip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, l4->l4_off, ports, sizeof(ports)) < 0)
			return -NT_DROP_MALFORMED;
		l4->sport = ports[0];
		l4->dport = ports[1];
		l4->csum_off = l4->l4_off + (ip->protocol == IPPROTO_TCP ? 16 : 6);
		if (ip->protocol == IPPROTO_TCP && bpf_skb_load_bytes(skb, l4->l4_off + 13, &l4->tcp_flags, 1) < 0)
			return -NT_DROP_MALFORMED;
		l4->has_ports = 1;
		return 0;
	case IPPROTO_ICMP:
		if (bpf_skb_load_bytes(skb, l4->l4_off, &icmp_type, 1) < 0 ||
		    bpf_skb_load_bytes(skb, l4->l4_off + 4, ports, 2) < 0)
			return -NT_DROP_MALFORMED;
		l4->icmp_type = icmp_type;
		/* The ICMP checksum has no pseudo-header: an address change
		 * leaves it alone; only an echo id change touches it. */
		if (icmp_type == ICMP_ECHO || icmp_type == ICMP_ECHOREPLY) {
			l4->sport = l4->dport = ports[0];
			l4->csum_off = l4->l4_off + 2;
			l4->has_ports = 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* Rewrites the source (src = 1) or destination address, and the port on the
 * same side (or the ICMP echo id), with incremental checksum updates that
 * also hold for checksums the VM left to offload (CHECKSUM_PARTIAL). */
NT_INLINE int nt_nat_rewrite(struct __sk_buff *skb, const struct nt_nat_l4 *l4, int src, __be32 old_ip,
			     __be32 new_ip, __be16 old_port, __be16 new_port)
{
	const __u32 ip_off = NT_NAT_IP_OFF + (src ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr));
	const __u64 mangled0 = l4->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	const int pseudo = l4->proto == IPPROTO_TCP || l4->proto == IPPROTO_UDP;

	if (l4->csum_off && pseudo &&
	    bpf_l4_csum_replace(skb, l4->csum_off, old_ip, new_ip, BPF_F_PSEUDO_HDR | mangled0 | sizeof(new_ip)) < 0)
		return -1;
	if (l4->csum_off && old_port != new_port) {
		__u32 port_off = l4->proto == IPPROTO_ICMP ? l4->l4_off + 4 : l4->l4_off + (src ? 0 : 2);

		if (bpf_l4_csum_replace(skb, l4->csum_off, old_port, new_port, mangled0 | sizeof(new_port)) < 0 ||
		    bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0) < 0)
			return -1;
	}
	if (bpf_l3_csum_replace(skb, NT_NAT_IP_OFF + offsetof(struct iphdr, check), old_ip, new_ip, sizeof(new_ip)) < 0 ||
	    bpf_skb_store_bytes(skb, ip_off, &new_ip, sizeof(new_ip), 0) < 0)
		return -1;
	return 0;
}

/* Keys and entries of the routing/NAT stage, off the 512-byte stack: these
 * run at the bottom of the tap program's deepest call chain. Per CPU; the
 * functions that share it use disjoint members. */
struct nt_l3_scratch {
	struct iphdr ip;
	__u8 macs[2 * NT_ETH_ALEN]; /* the routed frame's new destination, source */
	struct nt_route_key rk;
	struct nt_neigh_key nk;
	struct nt_fip_key fk;
	struct nt_nat_key key;
	struct nt_nat_key in;
	struct nt_nat_entry ie;
	struct nt_nat_entry oe;
	struct nt_fdb_entry peer; /* the SNAT host, as a remote L2 target */
	__u32 in_net;             /* nt_tc_route's arguments, kept here rather */
	__u32 from_peer;          /* than spilled to its stack frame */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_l3_scratch);
} nt_l3_scratch SEC(".maps");

NT_INLINE struct nt_l3_scratch *nt_l3_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nt_l3_scratch, &zero);
}

NT_INLINE struct nt_fip *nt_fip_lookup(struct nt_l3_scratch *x, __u32 router_id, __u32 dir, __be32 addr)
{
	__builtin_memset(&x->fk, 0, sizeof(x->fk));
	x->fk.router_id = router_id;
	x->fk.dir = dir;
	nt_ip_from_v4(&x->fk.addr, addr);
	return bpf_map_lookup_elem(&nt_fips, &x->fk);
}

/* The router's SNAT entry when another host translates this source's flows:
 * SNAT is on, its host is elsewhere, and the source has no floating IP
 * here (floating IPs are translated where the VM runs). Else NULL. */
NT_INLINE struct nt_snat *nt_snat_elsewhere(struct nt_l3_scratch *x, __u32 router_id, __be32 saddr)
{
	struct nt_snat *sn = bpf_map_lookup_elem(&nt_snat, &router_id);

	if (!sn || !(sn->flags & NT_SNAT_REMOTE) || nt_fip_lookup(x, router_id, NT_NAT_OUT, saddr))
		return NULL;
	return sn;
}

/* The SNAT key of a flow as one direction sees it (before translation). */
NT_INLINE struct nt_nat_key *nt_nat_key_set(struct nt_l3_scratch *x, __u32 router_id, __u8 dir, __u8 proto,
					    __be32 src, __be32 dst, __be16 sport, __be16 dport)
{
	__builtin_memset(&x->key, 0, sizeof(x->key));
	x->key.router_id = router_id;
	x->key.dir = dir;
	x->key.proto = proto;
	nt_ip_from_v4(&x->key.src, src);
	nt_ip_from_v4(&x->key.dst, dst);
	x->key.sport = sport;
	x->key.dport = dport;
	return &x->key;
}

/* A new SNAT binding: an external port from the router's range, probed from a
 * per-flow starting point; the inbound entry is inserted with BPF_NOEXIST,
 * so a port another flow holds (to the same remote) is never taken over.
 * The probe runs in bpf_loop: kernels before 6.3 reject the loop clang
 * makes of a plain for. */
struct nt_snat_probe {
	struct nt_l3_scratch *x;
	const struct nt_snat *sn;
	__u32 hash;
	__u32 range;
	__u32 bound;
};

static long nt_snat_try(__u32 i, void *arg)
{
	struct nt_snat_probe *p = arg;
	struct nt_l3_scratch *x = p->x;
	__be16 port;

	if (!p->range)
		return 1;
	port = bpf_htons((__u16)(p->sn->port_min + (p->hash + i) % p->range));
	x->in.dport = port;
	if (x->key.proto == IPPROTO_ICMP)
		x->in.sport = port; /* echo replies carry the id in both */
	if (bpf_map_update_elem(&nt_nat, &x->in, &x->ie, BPF_NOEXIST) != 0)
		return 0;
	x->oe.port = port;
	if (bpf_map_update_elem(&nt_nat, &x->key, &x->oe, BPF_NOEXIST) != 0)
		bpf_map_delete_elem(&nt_nat, &x->in); /* another CPU bound this flow first */
	p->bound = 1;
	return 1;
}

NT_INLINE struct nt_nat_entry *nt_snat_bind(struct nt_l3_scratch *x, const struct nt_snat *sn, __u32 hash,
					    __u64 now)
{
	struct nt_snat_probe p = { .x = x, .sn = sn, .hash = hash };

	if (sn->port_max < sn->port_min)
		return NULL;
	p.range = (__u32)sn->port_max - sn->port_min + 1;
	__builtin_memset(&x->in, 0, sizeof(x->in));
	x->in.router_id = x->key.router_id;
	x->in.proto = x->key.proto;
	x->in.dir = NT_NAT_IN;
	x->in.src = x->key.dst;
	x->in.dst = sn->ext_ip;
	x->in.sport = x->key.dport;
	__builtin_memset(&x->ie, 0, sizeof(x->ie));
	x->ie.addr = x->key.src;
	x->ie.port = x->key.sport;
	__builtin_memset(&x->oe, 0, sizeof(x->oe));
	x->oe.addr = sn->ext_ip;
	x->oe.seen_ns = now;
	bpf_loop(NT_SNAT_TRIES, nt_snat_try, &p, 0);
	return p.bound ? bpf_map_lookup_elem(&nt_nat, &x->key) : NULL;
}

/* ---- ICMP errors about translated packets -----------------------------------
 * Inbound (dir IN): the quoted packet left translated, so the error comes to
 * the external address and quotes it: the outer destination and the quoted
 * source address and port go back to the fixed ones (RFC 5508).
 * Outbound (dir OUT): a VM's error about a packet that came in translated
 * (to its floating IP, or a reply of a SNAT flow) quotes the fixed address:
 * the outer source and the quoted destination address and port become the
 * external ones, so the remote can match the error to its socket.
 * Either way the flow's key is built from the quote with the same fields,
 * and every checksum follows: the quoted IP header's, the quoted UDP/ICMP
 * one where present, and the outer ICMP checksum, which covers the quote. */
NT_INLINE int nt_icmp_quote_set16(struct __sk_buff *skb, __u32 icmp_csum_off, __u32 off, __u16 from, __u16 to)
{
	if (bpf_l4_csum_replace(skb, icmp_csum_off, from, to, sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0);
}

NT_INLINE int nt_icmp_quote_set32(struct __sk_buff *skb, __u32 icmp_csum_off, __u32 off, __u32 from, __u32 to)
{
	if (bpf_l4_csum_replace(skb, icmp_csum_off, from, to, sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0);
}

/* 1 = translated, 0 = not an error about one of our translations. */
NT_INLINE int nt_nat_error(struct __sk_buff *skb, __u32 router_id, struct nt_l3_scratch *x,
			   const struct iphdr *ip, const struct nt_nat_l4 *l4, __u8 dir)
{
	const int out = dir == NT_NAT_OUT;
	const __u32 icmp_csum = l4->l4_off + 2, q_ip = l4->l4_off + 8, q_l4 = q_ip + sizeof(struct iphdr);
	const __u32 outer_off = NT_NAT_IP_OFF + (out ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr));
	const __u32 quote_off = q_ip + (out ? offsetof(struct iphdr, daddr) : offsetof(struct iphdr, saddr));
	const __be32 outer = out ? ip->saddr : ip->daddr;
	struct nt_nat_entry *e;
	struct nt_fip *fip;
	struct iphdr q;
	__be16 qp[4] = {}; /* the quote's first 8 L4 bytes */
	__u32 to, quoted, port_off = 0, csum_off = 0;
	__u16 from_port = 0, to_port = 0, c;

	if (bpf_skb_load_bytes(skb, q_ip, &q, sizeof(q)) < 0 || q.ihl != 5 ||
	    bpf_skb_load_bytes(skb, q_l4, qp, sizeof(qp)) < 0)
		return 0;
	quoted = out ? q.daddr : q.saddr;
	if (quoted != outer)
		return 0;
	fip = nt_fip_lookup(x, router_id, dir, quoted);
	if (fip) {
		to = fip->addr.w[3];
	} else {
		/* The flow's key as this direction sees it: the quote's destination
		 * is its source (the remote answering us, or the VM answering). */
		nt_nat_key_set(x, router_id, dir, q.protocol, q.daddr, q.saddr,
			       q.protocol == IPPROTO_ICMP ? qp[2] : qp[1], q.protocol == IPPROTO_ICMP ? qp[2] : qp[0]);
		e = bpf_map_lookup_elem(&nt_nat, &x->key);
		if (!e)
			return 0;
		to = e->addr.w[3];
		from_port = out ? x->key.sport : x->key.dport;
		to_port = e->port;
	}
	if (q.protocol == IPPROTO_UDP && qp[3]) {
		csum_off = q_l4 + 6;
		port_off = q_l4 + (out ? 2 : 0);
	} else if (q.protocol == IPPROTO_TCP) {
		port_off = q_l4 + (out ? 2 : 0);
	} else if (q.protocol == IPPROTO_ICMP) {
		csum_off = q_l4 + 2;
		port_off = q_l4 + 4;
	}
	/* The outer address (the ICMP checksum has no pseudo-header). */
	if (bpf_l3_csum_replace(skb, NT_NAT_IP_OFF + offsetof(struct iphdr, check), outer, to, sizeof(to)) < 0 ||
	    bpf_skb_store_bytes(skb, outer_off, &to, sizeof(to), 0) < 0)
		return -NT_DROP_MALFORMED;
	/* The quoted address, and the quoted IP header's checksum. */
	if (nt_icmp_quote_set32(skb, icmp_csum, quote_off, quoted, to) < 0 ||
	    nt_icmp_quote_set16(skb, icmp_csum, q_ip + offsetof(struct iphdr, check), q.check,
				nt_csum_replace32(q.check, quoted, to)) < 0)
		return -NT_DROP_MALFORMED;
	/* The quoted L4 checksum (UDP's covers the address too) and port. */
	if (csum_off) {
		c = q.protocol == IPPROTO_UDP ? qp[3] : qp[1];
		__u16 n = q.protocol == IPPROTO_UDP ? nt_csum_replace32(c, quoted, to) : c;

		if (from_port != to_port)
			n = nt_csum_replace16(n, from_port, to_port);
		if (n != c && nt_icmp_quote_set16(skb, icmp_csum, csum_off, c, n) < 0)
			return -NT_DROP_MALFORMED;
	}
	if (port_off && from_port != to_port &&
	    nt_icmp_quote_set16(skb, icmp_csum, port_off, from_port, to_port) < 0)
		return -NT_DROP_MALFORMED;
	return 1;
}

/* Both directions start alike: the IPv4 header and L4 fields, and an ICMP
 * error about one of our translations translated whole. 0 = go on with the
 * packet, 1 = an error translated, -(drop reason). */
NT_INLINE int nt_nat_begin(struct __sk_buff *skb, __u32 router_id, struct nt_l3_scratch *x, struct iphdr *ip,
			   struct nt_nat_l4 *l4, __u8 dir)
{
	int r;

	if (!skb || !x || bpf_skb_load_bytes(skb, NT_NAT_IP_OFF, ip, sizeof(*ip)) < 0)
		return -NT_DROP_MALFORMED;
	r = nt_nat_parse(skb, ip, l4);
	if (r < 0)
		return r;
	if (ip->protocol == IPPROTO_ICMP && nt_icmp4_is_error(l4->icmp_type) && l4->l4_off)
		return nt_nat_error(skb, router_id, x, ip, l4, dir);
	return 0;
}

/* Outbound, after the route chose the router's gateway: the floating IP of
 * the source if it has one, else the router's SNAT binding of the flow, else
 * (SNAT disabled) nothing. 0 or -(drop reason). */
NT_GLOBAL int nt_nat_out(struct __sk_buff *skb, __u32 router_id)
{
	struct nt_l3_scratch *x = nt_l3_scratch_get();
	struct nt_nat_l4 l4 = {};
	struct nt_nat_entry *e;
	struct nt_snat *sn;
	struct nt_fip *fip;
	struct iphdr ip;
	int r = nt_nat_begin(skb, router_id, x, &ip, &l4, NT_NAT_OUT);

	if (r != 0)
		return r < 0 ? r : 0;
	fip = nt_fip_lookup(x, router_id, NT_NAT_OUT, ip.saddr);
	if (fip)
		return nt_nat_rewrite(skb, &l4, 1, ip.saddr, fip->addr.w[3], 0, 0) < 0 ? -NT_DROP_MALFORMED : 0;

	sn = bpf_map_lookup_elem(&nt_snat, &router_id);
	if (!sn)
		return 0; /* enable_snat off: routed with the fixed address */
	if (sn->flags & NT_SNAT_REMOTE)
		return -NT_DROP_NO_SNAT_PATH; /* the route sends these to the SNAT host first */
	if (!l4.has_ports)
		return -NT_DROP_NO_NAT_BINDING; /* SNAT needs ports (or an echo id) */
	nt_nat_key_set(x, router_id, NT_NAT_OUT, ip.protocol, ip.saddr, ip.daddr, l4.sport, l4.dport);
	e = bpf_map_lookup_elem(&nt_nat, &x->key);
	if (!e) {
		if (nt_tc_tracing(skb))
			return 0; /* trace: no binding is made; the packet shows untranslated */
		e = nt_snat_bind(x, sn, bpf_get_hash_recalc(skb), bpf_ktime_get_ns());
		if (!e)
			return -NT_DROP_NAT_EXHAUSTED;
	}
	if (!nt_tc_tracing(skb)) {
		e->seen_ns = bpf_ktime_get_ns();
		nt_counter_add_atomic(&e->counter, skb->len);
		if (l4.tcp_flags & (NT_TCP_FIN | NT_TCP_RST))
			e->state = NT_NAT_CLOSING;
	}
	return nt_nat_rewrite(skb, &l4, 1, ip.saddr, e->addr.w[3], l4.sport, e->port) < 0 ? -NT_DROP_MALFORMED : 0;
}

/* Inbound on the external network, to the router's gateway MAC: a floating
 * IP goes to its fixed IP, a SNAT binding back to its flow. 1 = translated,
 * 0 = neither (perhaps the router's own address), or -(drop reason). */
NT_GLOBAL int nt_nat_in(struct __sk_buff *skb, __u32 router_id)
{
	struct nt_l3_scratch *x = nt_l3_scratch_get();
	struct nt_nat_l4 l4 = {};
	struct nt_nat_entry *e;
	struct nt_fip *fip;
	struct iphdr ip;
	int r = nt_nat_begin(skb, router_id, x, &ip, &l4, NT_NAT_IN);

	if (r != 0)
		return r;
	fip = nt_fip_lookup(x, router_id, NT_NAT_IN, ip.daddr);
	if (fip) {
		nt_rx_note_nat(skb, ip.daddr, l4.dport, fip->addr.w[3], l4.dport);
		return nt_nat_rewrite(skb, &l4, 0, ip.daddr, fip->addr.w[3], 0, 0) < 0 ? -NT_DROP_MALFORMED : 1;
	}
	if (!l4.has_ports)
		return 0;
	nt_nat_key_set(x, router_id, NT_NAT_IN, ip.protocol, ip.saddr, ip.daddr, l4.sport, l4.dport);
	e = bpf_map_lookup_elem(&nt_nat, &x->key);
	if (!e) {
		/* To the SNAT address but no binding (expired, or never made):
		 * only a ping of the router itself is due an answer. */
		struct nt_snat *sn = bpf_map_lookup_elem(&nt_snat, &router_id);

		if (sn && sn->ext_ip.w[3] == ip.daddr && !(ip.protocol == IPPROTO_ICMP && l4.icmp_type == ICMP_ECHO))
			return -NT_DROP_NO_NAT_BINDING;
		return 0;
	}
	if (!nt_tc_tracing(skb)) {
		e->seen_ns = bpf_ktime_get_ns();
		nt_counter_add_atomic(&e->counter, skb->len);
	}
	nt_rx_note_nat(skb, ip.daddr, l4.dport, e->addr.w[3], e->port);
	return nt_nat_rewrite(skb, &l4, 0, ip.daddr, e->addr.w[3], l4.dport, e->port) < 0 ? -NT_DROP_MALFORMED : 1;
}

#endif

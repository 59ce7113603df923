/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Security-group classification: does any rule of the port's policy allow a
 * new flow in this direction? At most five LPM lookups, whatever the number
 * of rules: the remote address's class, then the rules of that class and the
 * rules with any remote (class 0), each for the protocol and for any
 * protocol; see the layout in abi.h. */
#ifndef NT_BPF_SECGROUP_H
#define NT_BPF_SECGROUP_H

#include "l3.h"
#include "maps.h"

/* The rule_tag of a rule of class pk->class_id allowing pk's protocol and
 * port, or allowing any protocol; 0 if none. */
NT_INLINE __u32 nt_sg_class_match(struct nt_sg_ports_key *pk, __u8 proto, __u16 port)
{
	struct nt_sg_match *m;

	pk->proto = proto;
	pk->port = bpf_htons(port);
	m = bpf_map_lookup_elem(&nt_sg_ports, pk);
	if (m)
		return m->rule_tag;
	pk->proto = 0; /* rules for any protocol carry no port */
	pk->port = 0;
	m = bpf_map_lookup_elem(&nt_sg_ports, pk);
	return m ? m->rule_tag : 0;
}

/* The rule_tag of a rule allowing t under this policy and direction, 0 if
 * none. The remote end is the destination for traffic leaving the VM and the
 * source for traffic entering it. */
NT_GLOBAL __u32 nt_sg_classify(__u32 policy_id, __u8 dir, const struct nt_tuple *t)
{
	struct nt_sg_remote_key rk = {
		.prefixlen = NT_SG_REMOTE_FIXED_BITS + 128,
		.policy_id = policy_id,
		.dir = dir,
	};
	struct nt_sg_ports_key pk = {
		.prefixlen = NT_SG_PORTS_FIXED_BITS + 16,
		.policy_id = policy_id,
		.dir = dir,
	};
	struct nt_sg_class *cls;
	__u32 rule;

	if (!t)
		return 0;
	rk.family = t->family;
	pk.family = t->family;
	rk.ip = dir == NT_DIR_FROM_VM ? t->dst : t->src;
	cls = bpf_map_lookup_elem(&nt_sg_remote, &rk);
	if (cls && cls->class_id) {
		pk.class_id = cls->class_id;
		rule = nt_sg_class_match(&pk, t->proto, t->sg_port);
		if (rule)
			return rule;
		pk.class_id = 0;
	}
	return nt_sg_class_match(&pk, t->proto, t->sg_port);
}

/* Traffic Neutron allows on every port with port security, outside the
 * security groups and without conntrack: DHCP and DHCPv6 client exchanges,
 * IPv6 neighbour discovery and MLD. Router advertisements only towards a VM. */
NT_INLINE int nt_sg_builtin_allow(__u8 dir, const struct nt_flow *f)
{
	if (!f->l4_ok)
		return 0;
	if (f->t.proto == IPPROTO_UDP) {
		__u16 s = bpf_ntohs(f->t.sport), d = bpf_ntohs(f->t.dport);

		if (dir == NT_DIR_FROM_VM)
			return (f->t.family == 4 && s == 68 && d == 67) ||
			       (f->t.family == 6 && s == 546 && d == 547);
		return (f->t.family == 4 && s == 67 && d == 68) || (f->t.family == 6 && s == 547 && d == 546);
	}
	if (f->t.proto == IPPROTO_ICMPV6 && f->t.family == 6) {
		switch (f->icmp_type) {
		case 130: case 131: case 132: case 143: /* MLD */
		case 133:                               /* router solicitation */
		case 135: case 136:                     /* neighbour solicitation/advertisement */
			return 1;
		case 134: /* router advertisement: from the network, never from a VM */
			return dir == NT_DIR_TO_VM;
		}
	}
	return 0;
}

NT_INLINE void nt_rule_hit(__u32 rule_tag, __u32 bytes)
{
	struct nt_counter *c = bpf_map_lookup_elem(&nt_rule_stats, &rule_tag);

	if (!c) {
		struct nt_counter zero = {};

		bpf_map_update_elem(&nt_rule_stats, &rule_tag, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&nt_rule_stats, &rule_tag);
		if (!c)
			return;
	}
	c->packets++;
	c->bytes += bytes;
}

#endif

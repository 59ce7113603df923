/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Drop reasons: one list, expanded into the enum (BPF and C++) and into the
 * name/description table (C++). Numbers are part of the ABI: a retired reason
 * keeps its number forever, new ones are appended.
 */
#ifndef NEUTRINO_DROP_REASONS_H
#define NEUTRINO_DROP_REASONS_H

/* X(NAME, number, "short-name", "what it means for an operator") */
#define NT_DROP_REASONS(X)                                                                 \
	X(NONE, 0, "none", "not a drop (index 0 is never counted)")                          \
	X(MALFORMED, 1, "malformed", "frame too short for its headers")                      \
	X(UNKNOWN_PORT, 2, "unknown-port", "interface carries Neutrino but has no port entry") \
	X(PORT_DOWN, 3, "port-down", "port or its network has admin_state_up=false")          \
	X(SPOOFED_MAC, 4, "spoofed-mac", "source MAC is not the port's own")                 \
	X(SPOOFED_IP, 5, "spoofed-ip", "source IP is not the port's own nor an allowed pair") \
	X(SPOOFED_ARP, 6, "spoofed-arp", "ARP sender MAC/IP is not the port's own")          \
	X(DHCP_SERVER, 7, "dhcp-server", "VM tried to answer as a DHCP server")               \
	X(SG_NO_MATCH, 8, "sg-no-match", "no security-group rule allows this new flow")       \
	X(CT_INVALID, 9, "ct-invalid", "packet does not fit the tracked TCP state")           \
	X(CT_FULL, 10, "ct-full", "connection table full, new flow refused")                 \
	X(FRAGMENT, 11, "fragment", "fragment of a flow that was not allowed")                \
	X(UNKNOWN_VNI, 12, "unknown-vni", "tunnel key/VNI of no local network")              \
	X(UNKNOWN_VTEP, 13, "unknown-vtep", "tunnel packet from a host not in the state")     \
	X(BAD_TUNNEL, 14, "bad-tunnel", "truncated or unsupported tunnel header")            \
	X(MTU_EXCEEDED, 15, "mtu-exceeded", "frame larger than the network MTU")              \
	X(NO_ROUTE, 16, "no-route", "no route to the destination")                           \
	X(TTL_EXCEEDED, 17, "ttl-exceeded", "TTL ran out while routing")                      \
	X(NAT_EXHAUSTED, 18, "nat-exhausted", "no free SNAT port")                           \
	X(DHCP_MALFORMED, 19, "dhcp-malformed", "malformed or oversized DHCP request")        \
	X(NO_FLOOD_TARGET, 20, "no-flood-target", "BUM frame with nowhere to go")             \
	X(LOOP, 21, "loop", "frame would go back out of the port it came from")               \
	X(REDIRECT_FAILED, 22, "redirect-failed", "redirect to the target interface failed") \
	X(ETHERTYPE, 23, "ethertype", "neither IPv4, IPv6 nor ARP on a port with port security") \
	X(POLICY_REVOKED, 24, "policy-revoked", "flow no longer allowed after a rule or group change") \
	X(ENCAP_FAILED, 25, "encap-failed", "could not add the tunnel or VLAN header") \
	X(DHCP_CONSUMED, 26, "dhcp-consumed", "DHCP RELEASE or DECLINE taken by the built-in server: no reply is due") \
	X(NO_NEIGHBOUR, 27, "no-neighbour", "routed, but the next hop's MAC is not known on the egress network") \
	X(TO_ROUTER, 28, "to-router", "addressed to the router itself: only ICMP echo is answered") \
	X(NO_NAT_BINDING, 29, "no-nat-binding", "from outside to an external address with no floating IP or SNAT binding") \
	X(NO_SNAT_PATH, 30, "no-snat-path", "the router's SNAT host is another host and no tunnel of this network reaches it")

enum nt_drop_reason {
#define NT_DROP_ENUM(name, num, str, desc) NT_DROP_##name = num,
	NT_DROP_REASONS(NT_DROP_ENUM)
#undef NT_DROP_ENUM
	NT_DROP_MAX
};

#endif /* NEUTRINO_DROP_REASONS_H */

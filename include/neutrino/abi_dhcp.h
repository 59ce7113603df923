/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DHCP ABI: what the datapath needs to answer a port's DHCPv4 requests
 * itself (bpf/lib/dhcp.h), with no dnsmasq and no qdhcp namespace.
 * Included by abi.h; the same rules apply (fixed-width types, network-order
 * fields typed __be*, padding written out, sizes asserted at the bottom).
 *
 * Every reply has one fixed layout, so the BPF builder works at constant
 * offsets only:
 *
 *   Ethernet | IPv4 (20) | UDP 67->68 (8) | BOOTP fixed part (236)
 *   | magic cookie (4) | options (NT_DHCP_OPTS_LEN = 308)
 *
 * = a 548-byte DHCP message in a 576-byte datagram, the size every client
 * must accept (RFC 2131 2). The options are rendered by the compile step
 * (maps/compile_dhcp.cpp) into nt_dhcp_config.opts, at these offsets:
 *
 *   [0]  53 1 <type>          message type; BPF writes the type byte
 *   [3]  54 4 <server id>
 *   [9]  51 4 <lease> 58 4 <T1> 59 4 <T2>   (18 bytes; PAD where absent)
 *   [27] 1 4 <mask>, then router, broadcast, MTU, classless routes, DNS,
 *        hostname, domain name, END, PAD (zero) to the end.
 *
 * A DHCPACK to an INFORM turns [9..27) into PAD (no lease, RFC 2131 3.4);
 * a DHCPNAK keeps [0..9) and ends there.
 */
#ifndef NEUTRINO_ABI_DHCP_H
#define NEUTRINO_ABI_DHCP_H

#include <linux/types.h>

#define NT_DHCP_SERVER_PORT 67
#define NT_DHCP_CLIENT_PORT 68
#define NT_DHCP_MAGIC_COOKIE 0x63825363u

/* DHCP message types (RFC 2132 9.6, option 53). */
enum nt_dhcp_msg_type {
	NT_DHCP_DISCOVER = 1,
	NT_DHCP_OFFER = 2,
	NT_DHCP_REQUEST = 3,
	NT_DHCP_DECLINE = 4,
	NT_DHCP_ACK = 5,
	NT_DHCP_NAK = 6,
	NT_DHCP_RELEASE = 7,
	NT_DHCP_INFORM = 8,
};

/* Option codes the server reads or writes. */
enum nt_dhcp_option {
	NT_DHCP_OPT_PAD = 0,
	NT_DHCP_OPT_SUBNET_MASK = 1,
	NT_DHCP_OPT_ROUTER = 3,
	NT_DHCP_OPT_DNS = 6,
	NT_DHCP_OPT_HOSTNAME = 12,
	NT_DHCP_OPT_DOMAIN_NAME = 15,
	NT_DHCP_OPT_MTU = 26,
	NT_DHCP_OPT_BROADCAST = 28,
	NT_DHCP_OPT_REQUESTED_IP = 50,
	NT_DHCP_OPT_LEASE_TIME = 51,
	NT_DHCP_OPT_MSG_TYPE = 53,
	NT_DHCP_OPT_SERVER_ID = 54,
	NT_DHCP_OPT_RENEWAL_TIME = 58,
	NT_DHCP_OPT_REBINDING_TIME = 59,
	NT_DHCP_OPT_CLASSLESS_ROUTES = 121,
	NT_DHCP_OPT_END = 255,
};

#define NT_BOOTP_FIXED_LEN 236 /* op .. file: everything before the magic cookie */
#define NT_DHCP_OPTS_LEN 308   /* options after the cookie in every reply */
#define NT_DHCP_MSG_LEN (NT_BOOTP_FIXED_LEN + 4 + NT_DHCP_OPTS_LEN) /* 548 */
#define NT_DHCP_REPLY_FRAME_LEN (14 + 20 + 8 + NT_DHCP_MSG_LEN)      /* 590 */
/* The largest request parsed (a 1500-byte datagram); longer ones are
 * dropped as dhcp-malformed, as are fragmented ones. */
#define NT_DHCP_REQ_MAX 1472
#define NT_DHCP_REQ_MIN (NT_BOOTP_FIXED_LEN + 4)

/* Offsets in nt_dhcp_config.opts (see the layout above). */
#define NT_DHCP_OFF_TYPE 2   /* value byte of option 53 */
#define NT_DHCP_OFF_LEASE 9  /* options 51, 58, 59 */
#define NT_DHCP_LEASE_OPTS_LEN 18
#define NT_DHCP_OFF_STATIC 27 /* subnet mask and what follows */

#define NT_DHCP_LEASE_INFINITE 0xffffffffu

enum nt_dhcp_flags {
	/* Answer ARP requests for server_id with server_mac, so that unicast
	 * renewals and releases reach the datapath. The compile step sets it
	 * for every server address it picks (a DHCP port's, or one nothing
	 * else claims; never a gateway, which a router owns). */
	NT_DHCP_F_ARP = 1u << 0,
};

/* nt_dhcp: port_tag -> the lease the port gets. Only ports with a fixed
 * IPv4 address on a subnet with enable_dhcp have an entry; no entry means
 * no answer (the request goes on like any broadcast). */
struct nt_dhcp_config {
	__be32 yiaddr;    /* the port's fixed IPv4 address */
	__be32 netmask;
	__be32 router;    /* 0 = none */
	__be32 server_id; /* the address replies come from (option 54) */
	__u32 lease_secs; /* host order; NT_DHCP_LEASE_INFINITE = infinite */
	__u16 mtu;        /* host order: the network's MTU (option 26) */
	__u16 opts_len;   /* bytes of opts in use, END included */
	__u8 server_mac[6];         /* Ethernet source of replies */
	__u8 flags;       /* enum nt_dhcp_flags */
	__u8 prefix_len;  /* of the subnet, for display */
	__u8 opts[NT_DHCP_OPTS_LEN]; /* rendered options, see above */
};

/* ---- counters: nt_dhcp_stats, key port_tag (0 = all ports) -------------------
 * Indexes 1..8 are DHCP message types: received for the client's (DISCOVER,
 * REQUEST, DECLINE, RELEASE, INFORM), sent for the server's (OFFER, ACK,
 * NAK). */
enum nt_dhcp_counter {
	NT_DHCP_CNT_IGNORED = 9,   /* a request not for this server: another server
				    * chosen, foreign chaddr, relayed, BOOTP or an
				    * unknown message type; it goes on unanswered */
	NT_DHCP_CNT_MALFORMED = 10, /* dropped as dhcp-malformed */
	NT_DHCP_CNT_ARP = 11,       /* ARP requests for the server address answered */
	NT_DHCP_CNT_MAX = 12,
};

#define NT_DHCP_STATS_ALL 0 /* key of the all-ports totals */
#define NT_DHCP_STATS_MAX 16384

struct nt_dhcp_stats {
	__u64 count[NT_DHCP_CNT_MAX]; /* updated atomically (not per CPU) */
};

/* ---- size asserts ------------------------------------------------------------ */
#ifdef __cplusplus
#define NT_DHCP_STATIC_ASSERT static_assert
#else
#define NT_DHCP_STATIC_ASSERT _Static_assert
#endif

NT_DHCP_STATIC_ASSERT(sizeof(struct nt_dhcp_config) == 340, "nt_dhcp_config");
NT_DHCP_STATIC_ASSERT(sizeof(struct nt_dhcp_stats) == 96, "nt_dhcp_stats");
NT_DHCP_STATIC_ASSERT(NT_DHCP_MSG_LEN == 548, "a DHCP reply is 548 bytes (576-byte datagram)");

#endif

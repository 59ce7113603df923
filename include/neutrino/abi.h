/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Neutrino datapath ABI: every map key/value and enum shared by the BPF
 * programs and the C++ loader. Compiled by both sides; sizes are asserted on
 * both sides so a layout drift breaks the build, not the datapath.
 *
 * Rules: fixed-width types, network-order fields typed __be*, padding written
 * out, no implicit holes. Bump NT_ABI_VERSION on any incompatible change; the
 * pin path carries it so an upgrade never meets a map of the old layout.
 */
#ifndef NEUTRINO_ABI_H
#define NEUTRINO_ABI_H

#include <linux/types.h>

/* 2: security-group maps keyed by policy id (nt_port.policy_id)
 * 3: nt_snat names the router's SNAT host (one host translates, DVR-style) */
#define NT_ABI_VERSION 3

#define NT_ETH_ALEN 6

#define NT_ID_LEN 40   /* a UUID (36) + NUL, padded */
#define NT_NAME_LEN 48 /* a Neutron name, truncated for display */
#define NT_IFNAME_LEN 16

/* Limits the compile step enforces and the BPF loops are bounded by. */
#define NT_MAX_PORTS 65536
#define NT_MAX_NETWORKS 16384
#define NT_MAX_FDB 262144
#define NT_MAX_NEIGH 262144
#define NT_MAX_FLOOD_SLOTS 64 /* local ports + remote VTEPs flooded per network */

/*
 * An address of either family in one 16-byte field: IPv6 as is, IPv4 as an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d), so keys never need a union and
 * IPv6 arrives without an ABI break.
 */
union nt_ip {
	__u8 b[16];
	__be32 w[4];
};

/* A packet and byte count (per-CPU in the stats maps). */
struct nt_counter {
	__u64 packets;
	__u64 bytes;
};

/* Network types (provider:network_type). Stable numbers. */
enum nt_net_type {
	NT_NET_LOCAL = 1,
	NT_NET_FLAT = 2,
	NT_NET_VLAN = 3,
	NT_NET_VXLAN = 4,
	NT_NET_GRE = 5,
};

/* ---- nt_ports: tap ifindex -> the Neutron port bound to it ---------------- */
enum nt_port_flags {
	NT_PORT_ADMIN_UP = 1u << 0,
	NT_PORT_SECURITY = 1u << 1, /* port_security_enabled: anti-spoofing + SGs */
};

struct nt_port_key {
	__u32 ifindex;
};

struct nt_port {
	__u32 net_id;     /* compact network id, see nt_net_key */
	__u32 flags;      /* enum nt_port_flags */
	__u8 mac[NT_ETH_ALEN];
	__u16 mtu;        /* the network's mtu, host order */
	__u32 port_tag;   /* stable compact id of the Neutron port (zone, stats) */
	/* Hash of the port's compiled security policy. Conntrack entries carry
	 * the generation they were admitted under; a mismatch makes the
	 * datapath re-check the flow against the current rules. */
	__u32 policy_gen;
	/* Key of the port's security-group tables (nt_sg_remote, nt_sg_ports):
	 * one id per distinct set of security groups, so ports with the same
	 * groups share one compiled table. 0 without port security. */
	__u32 policy_id;
	union nt_ip ip;   /* first fixed IP: the anti-spoofing fast path */
};

/* ---- nt_nets: per-network parameters --------------------------------------- */
enum nt_net_flags {
	NT_NET_ADMIN_UP = 1u << 0,
	NT_NET_EXTERNAL = 1u << 1, /* router:external */
};

struct nt_net_key {
	__u32 net_id;
};

struct nt_net {
	__u32 type;        /* enum nt_net_type */
	__u32 seg_id;      /* VLAN id, VNI or GRE key; 0 for local/flat */
	__u16 mtu;
	__u16 flags;       /* enum nt_net_flags */
	__u32 flood_count; /* valid slots in nt_flood for this network */
	__u32 uplink;      /* ifindex carrying the network off this host (physnet uplink or tunnel interface), 0 = none */
};

/* ---- nt_fdb: (network, MAC) -> where that MAC lives ------------------------ */
enum nt_fdb_flags {
	NT_FDB_LOCAL = 1u << 0,  /* a tap on this host: ifindex is valid */
	NT_FDB_REMOTE = 1u << 1, /* behind another host: vtep is valid */
	NT_FDB_ROUTER = 1u << 2, /* a router interface MAC: route, don't switch */
	NT_FDB_UPLINK = 1u << 3, /* behind the physnet uplink (VLAN/flat): ifindex is the uplink */
	NT_FDB_SNAT_PEER = 1u << 4, /* with ROUTER, on the SNAT host: the router's SNAT MAC on a
				     * VLAN/flat network, where other hosts send their VMs' SNAT flows */
};

struct nt_fdb_key {
	__u32 net_id;
	__u8 mac[NT_ETH_ALEN];
	__u8 pad[2];
};

struct nt_fdb_entry {
	union {
		__u32 ifindex;   /* LOCAL, UPLINK */
		__u32 router_id; /* ROUTER: the router's compact id (nt_routes key) */
	};
	__u32 flags; /* enum nt_fdb_flags */
	union {
		union nt_ip vtep;      /* REMOTE */
		union nt_ip router_ip; /* ROUTER: its address on this network, the source of its ICMP errors */
	};
};

/* ---- nt_flood: (network, slot) -> one copy target for BUM frames ------------ */
struct nt_flood_key {
	__u32 net_id;
	__u32 slot; /* 0 .. nt_net.flood_count-1 */
};

struct nt_flood_entry {
	__u32 ifindex; /* local tap, or the uplink for a remote VTEP */
	__u32 flags;   /* enum nt_fdb_flags: LOCAL or REMOTE */
	union nt_ip vtep;
};

/* ---- nt_neigh: (network, IP) -> MAC, for the ARP / ND responder ------------- */
enum nt_neigh_flags {
	NT_NEIGH_PORT = 1u << 0,   /* a port's fixed IP */
	NT_NEIGH_ROUTER = 1u << 1, /* a router interface (gateway) IP */
	NT_NEIGH_REMOTE = 1u << 2, /* owner bound to another host */
	NT_NEIGH_QUIET = 1u << 3,  /* known here, but ARP is answered on another host */
};

struct nt_neigh_key {
	__u32 net_id;
	__u32 pad;
	union nt_ip ip;
};

struct nt_neigh {
	__u8 mac[NT_ETH_ALEN];
	__u16 flags; /* enum nt_neigh_flags */
	__u32 port_tag;
};

/* ---- nt_routes: (router, destination prefix) -> where to send ----------------
 * Distributed routing: every host routes for its own VMs. A frame a VM sends
 * to a router interface MAC (nt_fdb entry with NT_FDB_ROUTER) is looked up
 * here by longest prefix within that router's table: its connected subnets
 * and its `routes`. LPM key: prefixlen counts the router id's 32 bits plus
 * the address bits (IPv4-mapped: 96 + IPv4 prefix length). */
enum nt_route_flags {
	NT_ROUTE_CONNECTED = 1u << 0, /* destination on the egress network itself */
	NT_ROUTE_VIA = 1u << 1,       /* to `nexthop`, a neighbour on the egress network */
	NT_ROUTE_EXTERNAL = 1u << 2,  /* out of the router's gateway: floating IP / SNAT apply */
};

struct nt_route_key {
	__u32 prefixlen;
	__u32 router_id;
	union nt_ip dst;
};

struct nt_route {
	__u32 net_id; /* egress network */
	__u32 flags;  /* enum nt_route_flags */
	union nt_ip nexthop;       /* VIA only */
	__u8 mac[NT_ETH_ALEN];     /* the router's MAC on the egress network (new source MAC) */
	__u16 pad;
	__be32 src_ip;             /* the router's IPv4 address there (its ARP requests) */
};

#define NT_MAX_ROUTES 65536

/* ---- NAT: floating IPs (stateless 1:1) and default SNAT (stateful) ---------
 * Floating IPs need no per-flow state: nt_fips maps fixed -> floating on the
 * way out and floating -> fixed on the way in, so disassociating one ends
 * every session through it at once (OSSN-0020). Default SNAT keeps one
 * binding per flow and direction in nt_nat, on one host per router (its SNAT
 * host, as Neutron's DVR keeps SNAT central): the other hosts send such
 * flows there over the tenant network's tunnel (nt_snat.snat_host), so the
 * external address, its ARP answer and every port of the range have one
 * owner and no two hosts can pick the same port. */
enum nt_nat_dir {
	NT_NAT_OUT = 1, /* VM -> outside: key has the fixed address */
	NT_NAT_IN = 2,  /* outside -> VM: key has the external address */
};

struct nt_fip_key {
	__u32 router_id;
	__u32 dir; /* enum nt_nat_dir */
	union nt_ip addr;
};

struct nt_fip {
	union nt_ip addr; /* the other side of the 1:1 mapping */
};

enum nt_snat_flags {
	NT_SNAT_REMOTE = 1u << 0, /* another host translates: send to snat_host */
};

struct nt_snat { /* key: __u32 router_id */
	union nt_ip ext_ip;
	__u16 port_min; /* the port (ICMP id) range, on the SNAT host */
	__u16 port_max;
	__u32 flags;           /* enum nt_snat_flags */
	union nt_ip snat_host; /* REMOTE: the SNAT host's tunnel endpoint (VXLAN/GRE networks) */
	__u8 snat_mac[NT_ETH_ALEN]; /* REMOTE: the SNAT host's MAC on VLAN/flat networks */
	__u8 pad[2];
};

struct nt_nat_key { /* a flow as one direction sees it, before translation */
	__u32 router_id;
	__u8 proto;
	__u8 dir; /* enum nt_nat_dir */
	__u8 pad[2];
	union nt_ip src;
	union nt_ip dst;
	__be16 sport; /* ICMP echo: the identifier in both */
	__be16 dport;
};

enum nt_nat_state {
	NT_NAT_OPEN = 0,    /* (a reply shows as the IN entry's seen_ns) */
	NT_NAT_CLOSING = 2, /* TCP FIN or RST seen going out */
};

struct nt_nat_entry {
	union nt_ip addr; /* OUT: the new source; IN: the new destination */
	__be16 port;      /* OUT: the new source port; IN: the new destination port */
	__u8 state;       /* enum nt_nat_state (kept on the OUT entry) */
	__u8 pad;
	__u32 pad2;
	__u64 seen_ns;    /* last packet of this direction */
	struct nt_counter counter;
};

#define NT_MAX_NAT 262144
#define NT_MAX_FIPS 65536
#define NT_SNAT_PORT_MIN 1024
#define NT_SNAT_PORT_MAX 65535

/* ---- nt_drop_stats / nt_port_stats: counters (per-CPU) ---------------------- */

/* Per-port counters, indexed by nt_port.port_tag in a per-CPU hash. */
struct nt_port_stats {
	struct nt_counter from_vm;   /* tap TC ingress: frames the VM sent */
	struct nt_counter to_vm;     /* tap TC egress: frames delivered to the VM */
	struct nt_counter arp_reply; /* ARP requests answered by the responder */
	struct nt_counter flooded;   /* BUM frames replicated */
	struct nt_counter dropped;
};

/*
 * Trace mode: a caller of BPF_PROG_TEST_RUN (tests, `neutrino trace`) puts
 * the two magic words in skb->cb[0..1]; the program then has no side effects
 * (no counters, no clones, no state) and reports its decision in cb[2..4].
 * Two 32-bit words make an accidental match on real traffic negligible.
 *
 * The tap programs also say what their security-group stage decided, in two
 * more fields a test run copies back (cb[] is full): skb->mark = the
 * rule_tag of the rule the packet stands on (0: none; names in
 * nt_rule_info) and skb->priority = enum nt_trace_policy. Only in trace
 * mode: real packets keep their mark and priority.
 */
#define NT_TRACE_MAGIC0 0x4e545452u /* "NTTR" */
#define NT_TRACE_MAGIC1 0x41434521u /* "ACE!" */

enum nt_verdict {
	NT_VERDICT_NONE = 0,
	NT_VERDICT_PASS = 1,     /* up the stack untouched */
	NT_VERDICT_REDIRECT = 2, /* cb[3] = target ifindex */
	NT_VERDICT_FLOOD = 3,    /* cb[3] = copies that would be made */
	NT_VERDICT_REPLY = 4,    /* answered in place, back out the same tap */
	NT_VERDICT_DROP = 5,     /* cb[4] = enum nt_drop_reason */
	NT_VERDICT_DELIVER = 6,  /* egress: handed to the VM */
	NT_VERDICT_REMOTE = 7,   /* to another host: reported as REDIRECT to the uplink */
	NT_VERDICT_ROUTE = 8,    /* internal: to a router MAC, the routing stage decides */
};

enum nt_trace_policy {
	NT_TRACE_POLICY_NONE = 0,        /* no security-group decision (ARP, or dropped before/by it) */
	NT_TRACE_POLICY_OFF = 1,         /* the port has no port security: nothing checked */
	NT_TRACE_POLICY_BUILTIN = 2,     /* DHCP client, ND, MLD: allowed without a rule, untracked */
	NT_TRACE_POLICY_NEW = 3,         /* a new flow a rule admits (mark = that rule) */
	NT_TRACE_POLICY_ESTABLISHED = 4, /* a tracked flow, original direction (mark = its rule) */
	NT_TRACE_POLICY_REPLY = 5,       /* a tracked flow, reply direction (mark = its rule) */
	NT_TRACE_POLICY_RELATED = 6,     /* an ICMP error quoting a tracked flow */
	NT_TRACE_POLICY_FRAGMENT = 7,    /* a later fragment of an admitted datagram (mark = its rule) */
};

struct nt_trace_cb {
	__u32 magic0;
	__u32 magic1;
	__u32 verdict; /* enum nt_verdict */
	__u32 target;  /* ifindex or copy count, see enum nt_verdict */
	__u32 reason;  /* enum nt_drop_reason */
};

/* ---- Security groups ---------------------------------------------------------
 * Neutron rules only ever allow, so classification is "does any rule of the
 * port allow this flow": two LPM lookups, flat in the number of rules. The
 * tables belong to a policy, not a port: ports with the same set of security
 * groups share one (nt_port.policy_id), since a rule set and its remote-group
 * members do not depend on the port it is applied to.
 *   1. nt_sg_remote: (policy, direction, family, remote IP) -> class. A class is
 *      a set of rules whose remote (prefix or group member) covers the address,
 *      inherited from every shorter prefix; no entry = class 0 (rules with any
 *      remote only).
 *   2. nt_sg_ports: (policy, class, direction, family, protocol, port) -> rule,
 *      where port ranges are made disjoint and split into prefix blocks; for
 *      ICMP the "port" is type<<8 | code. A second lookup with protocol 0
 *      finds rules for any protocol.
 */
enum nt_dir {
	NT_DIR_FROM_VM = 1, /* Neutron "egress": leaves the VM (tap ingress hook) */
	NT_DIR_TO_VM = 2,   /* Neutron "ingress": enters the VM (tap egress hook) */
};

#define NT_SG_REMOTE_FIXED_BITS 64 /* policy_id + dir/family/pad */
struct nt_sg_remote_key { /* LPM */
	__u32 prefixlen;
	__u32 policy_id; /* nt_port.policy_id */
	__u8 dir;    /* enum nt_dir */
	__u8 family; /* 4 or 6 */
	__u8 pad[2];
	union nt_ip ip;
};

struct nt_sg_class {
	__u32 class_id;
};

#define NT_SG_PORTS_FIXED_BITS 96 /* policy_id + class + dir/family/proto/pad */
struct nt_sg_ports_key { /* LPM */
	__u32 prefixlen;
	__u32 policy_id; /* nt_port.policy_id */
	__u32 class_id;
	__u8 dir;
	__u8 family;
	__u8 proto; /* 0 = rules for any protocol */
	__u8 pad;
	__be16 port; /* TCP/UDP/SCTP destination port; ICMP type<<8|code */
	__u16 pad2;
};

struct nt_sg_match {
	__u32 rule_tag; /* compact id of the rule that allows (counters, trace) */
};

/* ---- Anti-spoofing: what a port may send as --------------------------------
 * LPM over (port, MAC, IP): fixed IPs and allowed-address-pairs (IP or CIDR,
 * own or given MAC). An entry of prefix NT_ADDR_FIXED_BITS matches any IP
 * with that MAC: the MAC is allowed, the address is not (flag MAC_ONLY). */
#define NT_ADDR_FIXED_BITS 96 /* port_tag + mac + pad */
struct nt_addr_key { /* LPM */
	__u32 prefixlen;
	__u32 port_tag;
	__u8 mac[NT_ETH_ALEN];
	__u8 pad[2];
	union nt_ip ip;
};

enum nt_addr_flags {
	NT_ADDR_MAC_ONLY = 1u << 0,
	NT_ADDR_IP = 1u << 1,
};

struct nt_addr_allow {
	__u32 flags;
};

/* ---- Connection tracking ----------------------------------------------------
 * One table shared by the tap programs; the zone is the port, so overlapping
 * tenant addresses never meet. The key is the flow in its original direction;
 * a reply finds it under the reversed tuple. */
enum nt_ct_state {
	NT_CT_NEW = 0,
	NT_CT_SYN_SENT = 1,     /* TCP: SYN seen */
	NT_CT_SYN_RECV = 2,     /* TCP: SYN-ACK seen */
	NT_CT_ESTABLISHED = 3,  /* TCP: ACK after SYN-ACK; UDP/ICMP: reply seen */
	NT_CT_FIN_WAIT = 4,     /* TCP: one side sent FIN */
	NT_CT_CLOSING = 5,      /* TCP: both sides sent FIN */
	NT_CT_CLOSED = 6,       /* TCP: RST seen */
	NT_CT_UNREPLIED = 7,    /* UDP/ICMP/other: no reply yet */
};

/* Timeouts (seconds) per state; userspace shows remaining lifetimes. */
#define NT_CT_TIMEOUT_SYN 60
#define NT_CT_TIMEOUT_ESTABLISHED (5 * 24 * 3600)
#define NT_CT_TIMEOUT_FIN 120
#define NT_CT_TIMEOUT_CLOSED 10
#define NT_CT_TIMEOUT_UDP_UNREPLIED 30
#define NT_CT_TIMEOUT_UDP 180
#define NT_CT_TIMEOUT_ICMP 30
#define NT_CT_GC_INTERVAL_SEC 10
#define NT_MAX_CT 524288

struct nt_ct_key {
	__u32 zone; /* port_tag */
	__u8 proto;
	__u8 family;
	__u8 pad[2];
	union nt_ip src;
	union nt_ip dst;
	__be16 sport; /* ICMP echo: the identifier, in both ports */
	__be16 dport;
};

enum nt_ct_flags {
	NT_CT_F_REPLY_SEEN = 1u << 0,
	NT_CT_F_FIN_ORIG = 1u << 1,
	NT_CT_F_FIN_REPLY = 1u << 2,
};

struct nt_ct_entry {
	__u64 created_ns;  /* bpf_ktime_get_ns() clock */
	__u64 last_seen_ns;
	__u64 packets;     /* both directions; updated without atomics (approximate) */
	__u32 rule_tag;    /* the rule that admitted the flow */
	__u32 policy_gen;  /* nt_port.policy_gen when admitted or last re-checked */
	__u8 state;        /* enum nt_ct_state */
	__u8 origin;       /* enum nt_dir of the first packet */
	__u8 flags;        /* enum nt_ct_flags */
	__u8 pad;
	__u16 sg_port;     /* the classifier's port key of the first packet, for re-checks */
	__u8 pad2[2];
};

/* Non-first IPv4/IPv6 fragments carry no L4 header: they pass only when the
 * first fragment of the same datagram was allowed (it records this entry). */
struct nt_frag_key {
	__u32 zone;
	__u8 proto;
	__u8 family;
	__u8 dir;
	__u8 pad;
	__u32 id; /* IPv4 id or IPv6 fragment identification */
	union nt_ip src;
	union nt_ip dst;
};

struct nt_frag_entry {
	__u64 seen_ns;
	__u32 rule_tag;
	__u32 pad;
};

struct nt_ct_gc_stats { /* the GC timer's work, for `ct stats` */
	__u64 runs;
	__u64 expired;
	__u64 last_run_ns;
};

/* nt_ct_gc value as userspace sees it: BPF declares a struct bpf_timer in the
 * first 16 bytes (the syscall interface returns it zeroed). */
struct nt_ct_gc_value {
	__u64 timer[2];
	struct nt_ct_gc_stats stats;
};

/* Names of rules for counters and trace (userspace only), key: rule_tag. */
#define NT_DESC_LEN 80
struct nt_rule_info {
	char rule_id[NT_ID_LEN];
	char sg_id[NT_ID_LEN];
	char sg_name[NT_NAME_LEN];
	char desc[NT_DESC_LEN]; /* "ingress IPv4 tcp 22 from 0.0.0.0/0" */
};

/* ---- Userspace-only maps, pinned with the rest ------------------------------
 * The programs never read these. They keep the names that make the maps
 * readable (port and network ids for `port list`, `trace`, `monitor`) and the
 * loader's record of what it attached, so a restarted loader, `status` and
 * `destroy` know what is Neutrino's without any file outside bpffs. */

struct nt_port_info { /* key: __u32 port_tag */
	char id[NT_ID_LEN];
	char name[NT_NAME_LEN];
	char ifname[NT_IFNAME_LEN];
	__u32 ifindex;
	__u32 net_id;
};

struct nt_net_info { /* key: struct nt_net_key */
	char id[NT_ID_LEN];
	char name[NT_NAME_LEN];
};

struct nt_router_info { /* key: __u32 router_id */
	char id[NT_ID_LEN];
	char name[NT_NAME_LEN];
};

enum nt_attach_mode {
	NT_ATTACH_TCX = 1, /* bpf_link pinned under links/ */
	NT_ATTACH_CLS = 2, /* cls_bpf filter on clsact, handle NT_TC_HANDLE */
	NT_ATTACH_XDP = 3, /* XDP program attached through libxdp */
};

enum nt_attach_flags {
	NT_ATTACH_CREATED_QDISC = 1u << 0, /* clsact was created by Neutrino */
};

#define NT_TC_HANDLE 0x4e54 /* "NT" */
#define NT_TC_PRIORITY 1

struct nt_attach_key {
	__u32 ifindex;
	__u32 ingress; /* 1 = TC ingress, 0 = TC egress, NT_HOOK_XDP = XDP */
};

#define NT_HOOK_XDP 2

struct nt_attach {
	__u32 mode;    /* enum nt_attach_mode */
	__u32 flags;   /* enum nt_attach_flags */
	__u32 prog_id; /* the program Neutrino attached (never detach another) */
	__u32 pad;
	char ifname[NT_IFNAME_LEN];
	char netns[NT_NAME_LEN]; /* named netns of the interface, "" = the loader's */
};

/* ---- Overlays and provider networks -----------------------------------------
 * Tunnels (VXLAN: UDP 4789, VNI = segmentation id; GRE: protocol 47 with the
 * key = segmentation id, protocol 0x6558) are encapsulated in BPF on the
 * sending tap and decapsulated on the receiving host's tunnel interface. */
#define NT_VXLAN_PORT 4789
#define NT_GRE_PROTO_TEB 0x6558
#define NT_TUNNEL_TTL 64

struct nt_config { /* nt_config[0]: this host */
	union nt_ip tunnel_ip; /* zero: no tunnel endpoint on this host */
	__u32 tunnel_ifindex;  /* the interface holding tunnel_ip */
	__u32 flags;
};

struct nt_tun_key { /* (tunnel type, VNI or key) -> network */
	__u32 type; /* NT_NET_VXLAN or NT_NET_GRE */
	__u32 seg_id;
};

struct nt_tun_net {
	__u32 net_id;
};

struct nt_vtep_key { /* a remote host's tunnel endpoint */
	union nt_ip ip;
};

struct nt_vtep {
	__u32 flags;
	__u32 pad;
};

struct nt_provider_key { /* (physnet uplink, VLAN id or 0 for flat) -> network */
	__u32 ifindex;
	__u32 vlan;
};

struct nt_provider_net {
	__u32 net_id;
};

struct nt_uplink_stats { /* per uplink ifindex, per CPU */
	struct nt_counter encap;   /* frames sent to other hosts (tunnel or VLAN/flat) */
	struct nt_counter decap;   /* frames received for local ports */
	struct nt_counter dropped; /* tunnel/provider frames refused (see drop reasons) */
};

/* ---- Monitor: drop events streamed to `neutrino monitor` --------------------
 * While a monitor runs it writes its pid into nt_mon_config[0].owner; the
 * datapath emits nothing (and touches no ring buffer) while owner is 0. A
 * dropped packet that passes the filters takes a token of its CPU's bucket
 * (nt_mon_state) and goes into the ring buffer nt_mon_events with its first
 * NT_MON_SNAPLEN bytes; without a token it is only counted as suppressed.
 * Trace mode never emits. Adding these maps changed no existing layout. */
#define NT_MON_SNAPLEN 128
#define NT_MON_RING_BYTES (256 * 1024)

enum nt_mon_kind {
	NT_MON_DROP = 1,
};

enum nt_mon_hook {
	NT_MON_HOOK_TC = 1,  /* a TC program (tap or uplink) */
	NT_MON_HOOK_XDP = 2, /* the uplink's XDP program */
};

struct nt_mon_config { /* nt_mon_config[0] */
	__u32 owner;       /* pid of the running monitor; 0 = off */
	__u32 ifindex;     /* only drops on this interface; 0 = any */
	__u64 reasons;     /* bit (1 << reason) per wanted reason; 0 = any */
	__u64 interval_ns; /* rate limit: one event per interval per CPU; 0 = none */
	__u32 burst;       /* events a CPU may emit at once after a quiet spell */
	__u32 pad;
};

struct nt_mon_state { /* nt_mon_state[0], per CPU: the token bucket and its counts */
	__u64 credit_ns;  /* time credit, at most burst * interval_ns */
	__u64 last_ns;    /* bpf_ktime_get_ns() of the last refill */
	__u64 emitted;    /* events written into the ring buffer */
	__u64 suppressed; /* matching drops refused by the rate limit */
	__u64 lost;       /* matching drops with a token but a full ring buffer */
};

struct nt_mon_event { /* one record of the nt_mon_events ring buffer */
	__u64 ts_ns;    /* bpf_ktime_get_ns() */
	__u32 kind;     /* enum nt_mon_kind */
	__u32 reason;   /* enum nt_drop_reason */
	__u32 ifindex;  /* interface the program ran on */
	__u32 pkt_len;  /* the whole packet */
	__u16 cap_len;  /* bytes of it in data */
	__u16 hook;     /* enum nt_mon_hook */
	__u32 cpu;
	__u8 data[NT_MON_SNAPLEN];
};

#include "neutrino/abi_dhcp.h"

/* ---- size asserts, compiled by BPF and C++ alike ---------------------------- */
#ifdef __cplusplus
#define NT_STATIC_ASSERT static_assert
#else
#define NT_STATIC_ASSERT _Static_assert
#endif

NT_STATIC_ASSERT(sizeof(union nt_ip) == 16, "nt_ip");
NT_STATIC_ASSERT(sizeof(struct nt_port_key) == 4, "nt_port_key");
NT_STATIC_ASSERT(sizeof(struct nt_port) == 44, "nt_port");
NT_STATIC_ASSERT(sizeof(struct nt_net_key) == 4, "nt_net_key");
NT_STATIC_ASSERT(sizeof(struct nt_net) == 20, "nt_net");
NT_STATIC_ASSERT(sizeof(struct nt_fdb_key) == 12, "nt_fdb_key");
NT_STATIC_ASSERT(sizeof(struct nt_fdb_entry) == 24, "nt_fdb_entry");
NT_STATIC_ASSERT(sizeof(struct nt_flood_key) == 8, "nt_flood_key");
NT_STATIC_ASSERT(sizeof(struct nt_flood_entry) == 24, "nt_flood_entry");
NT_STATIC_ASSERT(sizeof(struct nt_neigh_key) == 24, "nt_neigh_key");
NT_STATIC_ASSERT(sizeof(struct nt_neigh) == 12, "nt_neigh");
NT_STATIC_ASSERT(sizeof(struct nt_route_key) == 24, "nt_route_key");
NT_STATIC_ASSERT(sizeof(struct nt_route) == 36, "nt_route");
NT_STATIC_ASSERT(sizeof(struct nt_router_info) == 88, "nt_router_info");
NT_STATIC_ASSERT(sizeof(struct nt_fip_key) == 24, "nt_fip_key");
NT_STATIC_ASSERT(sizeof(struct nt_fip) == 16, "nt_fip");
NT_STATIC_ASSERT(sizeof(struct nt_snat) == 48, "nt_snat");
NT_STATIC_ASSERT(sizeof(struct nt_nat_key) == 44, "nt_nat_key");
NT_STATIC_ASSERT(sizeof(struct nt_nat_entry) == 48, "nt_nat_entry");
NT_STATIC_ASSERT(sizeof(struct nt_counter) == 16, "nt_counter");
NT_STATIC_ASSERT(sizeof(struct nt_port_stats) == 80, "nt_port_stats");
NT_STATIC_ASSERT(sizeof(struct nt_trace_cb) == 20, "nt_trace_cb");
NT_STATIC_ASSERT(sizeof(struct nt_port_info) == 112, "nt_port_info");
NT_STATIC_ASSERT(sizeof(struct nt_config) == 24, "nt_config");
NT_STATIC_ASSERT(sizeof(struct nt_tun_key) == 8, "nt_tun_key");
NT_STATIC_ASSERT(sizeof(struct nt_vtep_key) == 16, "nt_vtep_key");
NT_STATIC_ASSERT(sizeof(struct nt_vtep) == 8, "nt_vtep");
NT_STATIC_ASSERT(sizeof(struct nt_provider_key) == 8, "nt_provider_key");
NT_STATIC_ASSERT(sizeof(struct nt_uplink_stats) == 48, "nt_uplink_stats");
NT_STATIC_ASSERT(sizeof(struct nt_sg_remote_key) == 28, "nt_sg_remote_key");
NT_STATIC_ASSERT(sizeof(struct nt_sg_ports_key) == 20, "nt_sg_ports_key");
NT_STATIC_ASSERT(sizeof(struct nt_addr_key) == 32, "nt_addr_key");
NT_STATIC_ASSERT(sizeof(struct nt_ct_key) == 44, "nt_ct_key");
NT_STATIC_ASSERT(sizeof(struct nt_ct_entry) == 40, "nt_ct_entry");
NT_STATIC_ASSERT(sizeof(struct nt_frag_key) == 44, "nt_frag_key");
NT_STATIC_ASSERT(sizeof(struct nt_frag_entry) == 16, "nt_frag_entry");
NT_STATIC_ASSERT(sizeof(struct nt_rule_info) == 208, "nt_rule_info");
NT_STATIC_ASSERT(sizeof(struct nt_ct_gc_stats) == 24, "nt_ct_gc_stats");
NT_STATIC_ASSERT(sizeof(struct nt_ct_gc_value) == 40, "nt_ct_gc_value");
NT_STATIC_ASSERT(sizeof(struct nt_net_info) == 88, "nt_net_info");
NT_STATIC_ASSERT(sizeof(struct nt_attach_key) == 8, "nt_attach_key");
NT_STATIC_ASSERT(sizeof(struct nt_attach) == 80, "nt_attach");
NT_STATIC_ASSERT(sizeof(struct nt_mon_config) == 32, "nt_mon_config");
NT_STATIC_ASSERT(sizeof(struct nt_mon_state) == 40, "nt_mon_state");
NT_STATIC_ASSERT(sizeof(struct nt_mon_event) == 160, "nt_mon_event");

#endif /* NEUTRINO_ABI_H */

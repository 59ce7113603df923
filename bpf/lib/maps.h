/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Map definitions. Types live in include/neutrino/abi.h; the loader pins the
 * maps under /sys/fs/bpf/neutrino/<instance>/abi<N>/maps/<name>. */
#ifndef NT_BPF_MAPS_H
#define NT_BPF_MAPS_H

#include "common.h"
#include "l3.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_PORTS);
	__type(key, struct nt_port_key);
	__type(value, struct nt_port);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS);
	__type(key, struct nt_net_key);
	__type(value, struct nt_net);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_FDB);
	__type(key, struct nt_fdb_key);
	__type(value, struct nt_fdb_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS * 8);
	__type(key, struct nt_flood_key);
	__type(value, struct nt_flood_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_flood SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NEIGH);
	__type(key, struct nt_neigh_key);
	__type(value, struct nt_neigh);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_neigh SEC(".maps");

/* Distributed routing: per-router longest-prefix tables (see abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NT_MAX_ROUTES);
	__type(key, struct nt_route_key);
	__type(value, struct nt_route);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_routes SEC(".maps");

/* NAT (see abi.h): floating IPs, SNAT config per router, SNAT bindings. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_FIPS);
	__type(key, struct nt_fip_key);
	__type(value, struct nt_fip);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_fips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS);
	__type(key, __u32);
	__type(value, struct nt_snat);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_snat SEC(".maps");

/* Bindings are never evicted (a plain hash, not LRU): a live mapping is
 * never reused; the conntrack GC sweep expires idle ones. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NAT);
	__type(key, struct nt_nat_key);
	__type(value, struct nt_nat_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_nat SEC(".maps");

/* Next hops outside Neutron (the external network's gateway), learned from
 * the ARP traffic on external networks' uplinks. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct nt_neigh_key);
	__type(value, struct nt_neigh);
} nt_ext_neigh SEC(".maps");

/* Counters: per reason, and per port (keyed by nt_port.port_tag). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NT_DROP_MAX);
	__type(key, __u32);
	__type(value, struct nt_counter);
} nt_drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NT_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct nt_port_stats);
} nt_port_stats SEC(".maps");

/* Security groups (see abi.h): remote classes, then (class, proto, port). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 20);
	__type(key, struct nt_sg_remote_key);
	__type(value, struct nt_sg_class);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_sg_remote SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 20);
	__type(key, struct nt_sg_ports_key);
	__type(value, struct nt_sg_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_sg_ports SEC(".maps");

/* Anti-spoofing: (port, MAC, IP prefix) a port may send as. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 18);
	__type(key, struct nt_addr_key);
	__type(value, struct nt_addr_allow);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_addrs SEC(".maps");

/* Connection tracking. A plain hash, not LRU: when it is full a new flow is
 * refused with NT_DROP_CT_FULL and no live flow is ever evicted; expired
 * entries are removed by the GC timer (conntrack.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_CT);
	__type(key, struct nt_ct_key);
	__type(value, struct nt_ct_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct nt_frag_key);
	__type(value, struct nt_frag_entry);
} nt_frags SEC(".maps");

/* Per-CPU scratch space for the parsed flow, off the 512-byte stack. Slot
 * per program: a tap_egress can run nested inside a tap_ingress (clones). */
enum nt_scratch_slot { NT_SCRATCH_FROM_VM = 0, NT_SCRATCH_TO_VM = 1 };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct nt_flow);
} nt_scratch SEC(".maps");

/* Per-CPU scratch for conntrack keys and the new entry, off the stack;
 * indexed like nt_scratch (by direction). */
struct nt_ct_work {
	struct nt_ct_key k;
	struct nt_tuple rev;
	struct nt_frag_key fk;
	struct nt_ct_entry ne;
	__u32 trace_rule; /* trace mode: what admitted the packet (abi.h "Trace mode") */
	__u32 trace_how;  /* enum nt_trace_policy */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct nt_ct_work);
} nt_ct_scratch SEC(".maps");

/* The conntrack GC timer (conntrack.h): one element. */
struct nt_ct_gc_state {
	struct bpf_timer timer;
	struct nt_ct_gc_stats stats;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_ct_gc_state);
} nt_ct_gc SEC(".maps");

_Static_assert(sizeof(struct nt_ct_gc_state) == sizeof(struct nt_ct_gc_value), "nt_ct_gc layout");

/* Flows admitted per rule (per CPU), keyed by rule_tag. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1 << 17);
	__type(key, __u32);
	__type(value, struct nt_counter);
} nt_rule_stats SEC(".maps");

/* Userspace only: rule and group ids for the counters. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 17);
	__type(key, __u32);
	__type(value, struct nt_rule_info);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_rule_info SEC(".maps");

/* Overlays and provider networks. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_config);
} nt_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS);
	__type(key, struct nt_tun_key);
	__type(value, struct nt_tun_net);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_tun_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct nt_vtep_key);
	__type(value, struct nt_vtep);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_vteps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS);
	__type(key, struct nt_provider_key);
	__type(value, struct nt_provider_net);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_provider SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct nt_uplink_stats);
} nt_uplink_stats SEC(".maps");

/* Monitor (see abi.h): its switch and filters, the per-CPU token buckets,
 * and the ring buffer of drop events. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_mon_config);
} nt_mon_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_mon_state);
} nt_mon_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NT_MON_RING_BYTES);
} nt_mon_events SEC(".maps");

/* Userspace-only (see abi.h): names for inspection, and the attach record. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct nt_port_info);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_port_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS);
	__type(key, struct nt_net_key);
	__type(value, struct nt_net_info);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_net_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_NETWORKS);
	__type(key, __u32);
	__type(value, struct nt_router_info);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_router_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_PORTS * 2);
	__type(key, struct nt_attach_key);
	__type(value, struct nt_attach);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_attachments SEC(".maps");

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Map definitions. Types live in include/neutrino/abi.h; the loader pins the
 * maps under /sys/fs/bpf/neutrino/<instance>/abi<N>/maps/<name>. */
#ifndef NT_BPF_MAPS_H
#define NT_BPF_MAPS_H

#include "common.h"

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
	__uint(max_entries, NT_MAX_PORTS * 2);
	__type(key, struct nt_attach_key);
	__type(value, struct nt_attach);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_attachments SEC(".maps");

#endif

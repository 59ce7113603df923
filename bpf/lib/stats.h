/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-reason and per-port counters. Per-CPU maps: no atomics on the hot path;
 * userspace sums the CPUs. */
#ifndef NT_BPF_STATS_H
#define NT_BPF_STATS_H

#include "maps.h"

NT_INLINE void nt_counter_add(struct nt_counter *c, __u32 bytes)
{
	c->packets++;
	c->bytes += bytes;
}

/* The same for a counter in a map shared by all CPUs. */
NT_INLINE void nt_counter_add_atomic(struct nt_counter *c, __u32 bytes)
{
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, bytes);
}

NT_INLINE void nt_count_drop_reason(__u32 reason, __u32 bytes)
{
	struct nt_counter *c = bpf_map_lookup_elem(&nt_drop_stats, &reason);

	if (c)
		nt_counter_add(c, bytes);
}

/* The per-port record, created on first use; apply deletes records of ports
 * that leave the state. */
NT_INLINE struct nt_port_stats *nt_port_stats_get(__u32 port_tag)
{
	struct nt_port_stats *s = bpf_map_lookup_elem(&nt_port_stats, &port_tag);

	if (s || !port_tag)
		return s;
	struct nt_port_stats zero = {};
	bpf_map_update_elem(&nt_port_stats, &port_tag, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&nt_port_stats, &port_tag);
}

/* Per-uplink counters (nt_uplink_stats), created on first use. */
NT_INLINE struct nt_uplink_stats *nt_uplink_stats_get(__u32 ifindex)
{
	struct nt_uplink_stats *s = bpf_map_lookup_elem(&nt_uplink_stats, &ifindex);

	if (s)
		return s;
	struct nt_uplink_stats zero = {};
	bpf_map_update_elem(&nt_uplink_stats, &ifindex, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&nt_uplink_stats, &ifindex);
}

#endif

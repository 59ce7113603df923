/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Drop events for `neutrino monitor` (see abi.h): nothing but one array
 * lookup while no monitor runs; otherwise filter, take a token of this CPU's
 * bucket, and copy the first bytes of the packet into a ring buffer record
 * (built in the reservation, not on the stack). */
#ifndef NT_BPF_MONITOR_H
#define NT_BPF_MONITOR_H

#include "maps.h"

_Static_assert(NT_DROP_MAX <= 64, "nt_mon_config.reasons has a bit per drop reason");

NT_INLINE struct nt_mon_config *nt_mon_active(void)
{
	__u32 zero = 0;
	struct nt_mon_config *cfg = bpf_map_lookup_elem(&nt_mon_config, &zero);

	return cfg && cfg->owner ? cfg : NULL;
}

/* A token bucket kept as time credit: every nanosecond adds one, up to
 * burst intervals; an event costs one interval. No rounding is lost however
 * often it is called. A fresh bucket (last_ns 0: the monitor reset it) is
 * full, however short the uptime. 1 = emit. */
NT_INLINE int nt_mon_take(struct nt_mon_state *b, const struct nt_mon_config *cfg)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 interval = cfg->interval_ns;
	__u64 cap = interval * cfg->burst;
	__u64 credit = b->last_ns ? b->credit_ns + (now - b->last_ns) : cap;

	b->last_ns = now;
	if (credit > cap)
		credit = cap;
	if (credit < interval) {
		b->credit_ns = credit;
		b->suppressed++;
		return 0;
	}
	b->credit_ns = credit - interval;
	return 1;
}

/* The filters, the bucket and the reservation; NULL = no event. */
NT_INLINE struct nt_mon_event *nt_mon_reserve(const struct nt_mon_config *cfg, __u32 ifindex, __u32 reason)
{
	__u32 zero = 0;
	struct nt_mon_state *b = bpf_map_lookup_elem(&nt_mon_state, &zero);
	struct nt_mon_event *e;

	if (!b || (cfg->ifindex && cfg->ifindex != ifindex))
		return NULL;
	if (cfg->reasons && (reason >= 64 || !(cfg->reasons & (1ull << reason))))
		return NULL;
	if (!nt_mon_take(b, cfg))
		return NULL;
	e = bpf_ringbuf_reserve(&nt_mon_events, sizeof(*e), 0);
	if (!e) {
		b->lost++;
		return NULL;
	}
	b->emitted++;
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = NT_MON_DROP;
	e->reason = reason;
	e->ifindex = ifindex;
	e->cpu = bpf_get_smp_processor_id();
	e->cap_len = 0;
	return e;
}

/* Bytes to copy of a packet of len >= 1 bytes: 1..NT_MON_SNAPLEN, in a
 * form the verifier can bound (clang would otherwise test one copy of the
 * length and pass another to the helper). */
_Static_assert((NT_MON_SNAPLEN & (NT_MON_SNAPLEN - 1)) == 0, "NT_MON_SNAPLEN is a power of two");
NT_INLINE __u32 nt_mon_snaplen(__u32 len)
{
	__u32 n = len < NT_MON_SNAPLEN ? len : NT_MON_SNAPLEN;

	asm volatile("" : "+r"(n));
	return ((n - 1) & (NT_MON_SNAPLEN - 1)) + 1;
}

/* Global: verified once, not at every drop site. The caller has checked
 * that a monitor runs and that this is no trace run. */
NT_GLOBAL int nt_mon_drop_skb(struct __sk_buff *skb, __u32 reason)
{
	struct nt_mon_config *cfg = nt_mon_active();
	struct nt_mon_event *e;
	__u32 cap;

	if (!skb || !cfg)
		return 0;
	e = nt_mon_reserve(cfg, skb->ifindex, reason);
	if (!e)
		return 0;
	e->hook = NT_MON_HOOK_TC;
	e->pkt_len = skb->len;
	if (skb->len > 0) {
		cap = nt_mon_snaplen(skb->len);
		if (bpf_skb_load_bytes(skb, 0, e->data, cap) == 0)
			e->cap_len = cap;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

NT_GLOBAL int nt_mon_drop_xdp(struct xdp_md *ctx, __u32 reason)
{
	struct nt_mon_config *cfg = nt_mon_active();
	struct nt_mon_event *e;
	__u32 len, cap;

	if (!ctx || !cfg)
		return 0;
	e = nt_mon_reserve(cfg, ctx->ingress_ifindex, reason);
	if (!e)
		return 0;
	len = bpf_xdp_get_buff_len(ctx);
	e->hook = NT_MON_HOOK_XDP;
	e->pkt_len = len;
	if (len > 0) {
		cap = nt_mon_snaplen(len);
		if (bpf_xdp_load_bytes(ctx, 0, e->data, cap) == 0)
			e->cap_len = cap;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* What the drop paths call: one array lookup when no monitor runs. */
NT_INLINE void nt_mon_drop(struct __sk_buff *skb, __u32 reason)
{
	if (nt_mon_active())
		nt_mon_drop_skb(skb, reason);
}

NT_INLINE void nt_mon_drop_xdp_ctx(struct xdp_md *ctx, __u32 reason)
{
	if (nt_mon_active())
		nt_mon_drop_xdp(ctx, reason);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Native DHCPv4 server: answers a port's DHCP requests in the datapath, from
 * the lease the compile step put in nt_dhcp (port_tag -> nt_dhcp_config), so
 * a host runs no dnsmasq and no qdhcp namespace, whatever its networks.
 *
 *   request from the VM (UDP 68 -> 67)
 *     -> lease of the port? none: not answered (DHCP disabled on its subnet)
 *     -> bounds, BOOTP header, magic cookie; options walked with bpf_loop
 *     -> DISCOVER: OFFER | REQUEST: ACK for the port's address, else NAK
 *        | INFORM: ACK without lease | RELEASE, DECLINE: consumed
 *     -> the reply is built in a per-CPU scratch buffer at constant offsets,
 *        checksummed there, and written over the request (grown or trimmed
 *        with bpf_skb_change_tail); tap_ingress sends it back out of the tap.
 *
 * It also answers ARP for the server address when nothing else owns it
 * (NT_DHCP_F_ARP), so that unicast renewals reach it.
 *
 * Addressing of replies (RFC 2131 4.1, giaddr is always 0 here): a NAK is
 * broadcast; otherwise ciaddr set -> unicast to ciaddr; broadcast flag set ->
 * 255.255.255.255; else unicast to yiaddr. Unicast goes to chaddr, which is
 * the port's MAC (requests for another chaddr are not answered).
 */
#ifndef NT_BPF_DHCP_H
#define NT_BPF_DHCP_H

#include "common.h"
#include "parse.h"
#include "tc.h"
#include "csum.h"
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct nt_dhcp_config);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_dhcp SEC(".maps");

/* Message counters per port (and key 0: all ports). DHCP is rare, so one
 * shared value with atomic adds; an LRU so entries of ports long gone make
 * room by themselves. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NT_DHCP_STATS_MAX);
	__type(key, __u32);
	__type(value, struct nt_dhcp_stats);
} nt_dhcp_stats SEC(".maps");

/* BOOTP fixed part (RFC 2131 2). */
struct nt_bootp {
	__u8 op;
	__u8 htype;
	__u8 hlen;
	__u8 hops;
	__be32 xid;
	__be16 secs;
	__be16 flags;
	__be32 ciaddr;
	__be32 yiaddr;
	__be32 siaddr;
	__be32 giaddr;
	__u8 chaddr[16];
	__u8 sname[64];
	__u8 file[128];
};

#define NT_BOOTP_REQUEST 1
#define NT_BOOTP_REPLY 2
#define NT_BOOTP_BROADCAST 0x8000

/* The reply as it is built: two bytes of headroom put the IP header on a
 * 4-byte boundary; 8-byte alignment lets clang inline the memset. */
struct nt_dhcp_frame {
	__u8 headroom[2];
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	struct nt_bootp bootp;
	__be32 cookie;
	__u8 opts[NT_DHCP_OPTS_LEN];
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct nt_bootp) == NT_BOOTP_FIXED_LEN, "nt_bootp");
_Static_assert(sizeof(struct nt_dhcp_frame) == 2 + NT_DHCP_REPLY_FRAME_LEN, "nt_dhcp_frame");

/* ---- the options walk ---------------------------------------------------------
 * One option per bpf_loop iteration, so the verifier sees the body once,
 * whatever the number of options (PADs included). The walk's state lives in
 * the scratch map, not on the stack: the verifier then sees no stack state
 * change between iterations and converges at once. */
enum nt_dhcp_walk_status {
	NT_DHCP_WALK_RUNNING = 0,
	NT_DHCP_WALK_END = 1,       /* END option seen */
	NT_DHCP_WALK_MALFORMED = 2, /* overrun, bad length */
};

struct nt_dhcp_walk {
	__u32 off;           /* next option */
	__u32 end;           /* length of the message */
	__be32 requested_ip; /* option 50, 0 = absent */
	__be32 server_id;    /* option 54, 0 = absent */
	__u8 msg_type;       /* option 53, 0 = absent (BOOTP) */
	__u8 status;         /* enum nt_dhcp_walk_status */
	__u8 pad[6];
};

#define NT_DHCP_REQ_BUF (NT_DHCP_REQ_MAX + 8) /* slack: option values read past off */

struct nt_dhcp_scratch {
	struct nt_dhcp_frame out;
	struct nt_dhcp_walk walk;
	struct nt_dhcp_stats zero_stats; /* never written: the initial counter value */
	__u8 req[NT_DHCP_REQ_BUF];       /* the request's DHCP message, copied */
} __attribute__((aligned(8)));

/* Per-CPU scratch space, off the 512-byte stack. tap_ingress never nests in
 * itself on one CPU, so one slot is enough. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_dhcp_scratch);
} nt_dhcp_scratch SEC(".maps");

struct nt_dhcp_walk_ctx {
	struct nt_dhcp_scratch *s;
};

/* What one request did, for the counters (counted once, at the end). */
struct nt_dhcp_result {
	__u32 rx; /* enum nt_dhcp_msg_type received, or NT_DHCP_CNT_* */
	__u32 tx; /* enum nt_dhcp_msg_type sent, 0 = none */
};

NT_INLINE void nt_dhcp_count_one(const struct nt_dhcp_stats *zero, __u32 key, __u32 what)
{
	struct nt_dhcp_stats *c;

	if (!what || what >= NT_DHCP_CNT_MAX)
		return;
	c = bpf_map_lookup_elem(&nt_dhcp_stats, &key);
	if (!c) {
		bpf_map_update_elem(&nt_dhcp_stats, &key, zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&nt_dhcp_stats, &key);
		if (!c)
			return;
	}
	__sync_fetch_and_add(&c->count[what], 1);
}

NT_INLINE void nt_dhcp_count(__u32 port_tag, const struct nt_dhcp_result *r)
{
	__u32 zero = 0;
	struct nt_dhcp_scratch *s = bpf_map_lookup_elem(&nt_dhcp_scratch, &zero);

	if (!s)
		return;
	nt_dhcp_count_one(&s->zero_stats, port_tag, r->rx);
	nt_dhcp_count_one(&s->zero_stats, NT_DHCP_STATS_ALL, r->rx);
	nt_dhcp_count_one(&s->zero_stats, port_tag, r->tx);
	nt_dhcp_count_one(&s->zero_stats, NT_DHCP_STATS_ALL, r->tx);
}

static long nt_dhcp_walk_one(__u32 i __attribute__((unused)), void *arg)
{
	struct nt_dhcp_scratch *s = ((struct nt_dhcp_walk_ctx *)arg)->s;
	struct nt_dhcp_walk *w;
	const __u8 *req;
	__u32 off, end;
	__u8 code, len;
	__be32 v;

	if (!s)
		return 1;
	w = &s->walk;
	req = s->req;
	off = w->off;
	end = w->end;
	if (off >= end)
		return 1; /* options ran to the end without END: accepted */
	if (off > NT_DHCP_REQ_MAX - 1)
		goto malformed;
	code = req[off];
	if (code == NT_DHCP_OPT_PAD) {
		w->off = off + 1;
		return 0;
	}
	if (code == NT_DHCP_OPT_END) {
		w->status = NT_DHCP_WALK_END;
		return 1;
	}
	if (off + 2 > end)
		goto malformed; /* no length byte */
	len = req[off + 1];
	if (off + 2 + len > end)
		goto malformed; /* the value runs past the message */
	switch (code) {
	case NT_DHCP_OPT_MSG_TYPE:
		if (len != 1)
			goto malformed;
		w->msg_type = req[off + 2];
		break;
	case NT_DHCP_OPT_REQUESTED_IP:
	case NT_DHCP_OPT_SERVER_ID:
		if (len != 4)
			goto malformed;
		__builtin_memcpy(&v, req + off + 2, 4);
		if (code == NT_DHCP_OPT_REQUESTED_IP)
			w->requested_ip = v;
		else
			w->server_id = v;
		break;
	}
	w->off = off + 2 + len;
	return 0;
malformed:
	w->status = NT_DHCP_WALK_MALFORMED;
	return 1;
}

/* ---- building the reply ------------------------------------------------------- */
#define NT_DHCP_UDP_LEN (8 + NT_DHCP_MSG_LEN) /* 556 */

NT_INLINE void nt_dhcp_checksums(struct nt_dhcp_frame *f)
{
	__u64 sum;

	f->ip.check = 0;
	f->ip.check = nt_csum_fold(nt_csum_part(&f->ip, sizeof(f->ip)));

	f->udp.check = 0;
	sum = nt_csum_part(&f->ip.saddr, 8); /* pseudo-header: addresses ... */
	sum += bpf_htons(IPPROTO_UDP) + bpf_htons(NT_DHCP_UDP_LEN); /* ... protocol, length */
	sum += nt_csum_part(&f->udp, 512);
	sum += nt_csum_part((__u8 *)&f->udp + 512, NT_DHCP_UDP_LEN - 512);
	f->udp.check = nt_csum_fold(sum);
	if (!f->udp.check)
		f->udp.check = 0xffff; /* 0 would mean "no checksum" */
}

static const __u8 nt_dhcp_bcast_mac[NT_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Fills the scratch frame with the reply of type `type` to request rq;
 * inform: the reply to an INFORM (no address, no lease). */
NT_INLINE void nt_dhcp_build(struct nt_dhcp_frame *f, const struct nt_bootp *rq,
			     const struct nt_dhcp_config *cfg, __u8 type, int inform)
{
	__be32 yiaddr = type == NT_DHCP_NAK || inform ? 0 : cfg->yiaddr;
	__be32 ciaddr = type == NT_DHCP_ACK ? rq->ciaddr : 0;
	__be32 dst;
	int bcast;

	/* RFC 2131 4.1, with giaddr 0. */
	if (type == NT_DHCP_NAK) {
		bcast = 1;
		dst = 0xffffffff;
	} else if (rq->ciaddr) {
		bcast = 0;
		dst = rq->ciaddr;
	} else if ((rq->flags & bpf_htons(NT_BOOTP_BROADCAST)) || !yiaddr) {
		bcast = 1;
		dst = 0xffffffff;
	} else {
		bcast = 0;
		dst = yiaddr;
	}

	__builtin_memset(f, 0, sizeof(*f));
	nt_mac_copy(f->eth.h_dest, bcast ? nt_dhcp_bcast_mac : rq->chaddr);
	nt_mac_copy(f->eth.h_source, cfg->server_mac);
	f->eth.h_proto = bpf_htons(ETH_P_IP);

	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = bpf_htons(20 + NT_DHCP_UDP_LEN);
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.saddr = cfg->server_id;
	f->ip.daddr = dst;

	f->udp.source = bpf_htons(NT_DHCP_SERVER_PORT);
	f->udp.dest = bpf_htons(NT_DHCP_CLIENT_PORT);
	f->udp.len = bpf_htons(NT_DHCP_UDP_LEN);

	f->bootp.op = NT_BOOTP_REPLY;
	f->bootp.htype = 1;
	f->bootp.hlen = NT_ETH_ALEN;
	f->bootp.xid = rq->xid;
	f->bootp.flags = rq->flags;
	f->bootp.ciaddr = ciaddr;
	f->bootp.yiaddr = yiaddr;
	__builtin_memcpy(f->bootp.chaddr, rq->chaddr, sizeof(f->bootp.chaddr));
	f->cookie = bpf_htonl(NT_DHCP_MAGIC_COOKIE);

	if (type == NT_DHCP_NAK) {
		/* message type and server identifier only */
		__builtin_memcpy(f->opts, cfg->opts, NT_DHCP_OFF_LEASE);
		f->opts[NT_DHCP_OFF_LEASE] = NT_DHCP_OPT_END;
	} else {
		__builtin_memcpy(f->opts, cfg->opts, NT_DHCP_OPTS_LEN);
		if (inform) /* no lease time, T1, T2 (RFC 2131 3.4) */
			__builtin_memset(f->opts + NT_DHCP_OFF_LEASE, 0, NT_DHCP_LEASE_OPTS_LEN);
	}
	f->opts[0] = NT_DHCP_OPT_MSG_TYPE;
	f->opts[1] = 1;
	f->opts[NT_DHCP_OFF_TYPE] = type;
	nt_dhcp_checksums(f);
}

/* ---- ARP for the server address ------------------------------------------------ */
NT_INLINE int nt_dhcp_arp(struct __sk_buff *skb, const struct nt_port *port, struct nt_dhcp_result *res)
{
	struct nt_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end };
	struct nt_dhcp_config *cfg;
	struct ethhdr *eth = nt_parse_eth(&c);
	struct nt_arp *arp;
	__u32 tag = port->port_tag;
	__be32 asked;

	if (!eth)
		return 0;
	arp = nt_parse_arp(&c);
	if (!arp || !nt_arp_is_eth_ipv4_request(arp))
		return 0;
	cfg = bpf_map_lookup_elem(&nt_dhcp, &tag);
	if (!cfg || !(cfg->flags & NT_DHCP_F_ARP))
		return 0;
	asked = arp->eth.tpa;
	if (asked != cfg->server_id || arp->eth.spa == asked)
		return 0;
	nt_mac_copy(eth->h_dest, arp->eth.sha);
	nt_mac_copy(eth->h_source, cfg->server_mac);
	arp->hdr.ar_op = bpf_htons(ARPOP_REPLY);
	nt_mac_copy(arp->eth.tha, arp->eth.sha);
	arp->eth.tpa = arp->eth.spa;
	nt_mac_copy(arp->eth.sha, cfg->server_mac);
	arp->eth.spa = asked;
	res->rx = NT_DHCP_CNT_ARP;
	return 1;
}

/* ---- the request ------------------------------------------------------------------ */
NT_INLINE int nt_dhcp_serve(struct __sk_buff *skb, const struct nt_port *port, struct nt_dhcp_result *res)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct nt_dhcp_walk_ctx wc;
	struct nt_dhcp_scratch *s;
	struct nt_dhcp_walk *w;
	struct nt_dhcp_config *cfg;
	struct ethhdr *eth = data;
	struct nt_bootp *rq;
	struct udphdr *udp;
	struct iphdr *ip;
	__u32 tag = port->port_tag, zero = 0;
	__u32 ihl, ip_len, udp_len;
	__u64 msg_len; /* 64-bit, so its bounds hold on the register the helper gets */
	__u8 type;

	if ((void *)(eth + 1) > data_end)
		return 0; /* tap_ingress reports the short frame */
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return nt_dhcp_arp(skb, port, res);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
		return 0;
	if (ip->frag_off & bpf_htons(0x1fff))
		return 0; /* a later fragment: no UDP header to look at */
	ihl = ip->ihl * 4;
	udp = (void *)ip + ihl;
	if ((void *)(udp + 1) > data_end)
		return 0;
	if (udp->dest != bpf_htons(NT_DHCP_SERVER_PORT) || udp->source != bpf_htons(NT_DHCP_CLIENT_PORT))
		return 0;
	cfg = bpf_map_lookup_elem(&nt_dhcp, &tag);
	if (!cfg)
		return 0; /* no DHCP on the port's subnet: no answer */

	res->rx = NT_DHCP_CNT_MALFORMED;
	if (ip->frag_off & bpf_htons(0x2000))
		return -NT_DROP_DHCP_MALFORMED; /* fragmented: oversized */
	ip_len = bpf_ntohs(ip->tot_len);
	udp_len = bpf_ntohs(udp->len);
	if (udp_len < 8 + NT_DHCP_REQ_MIN || ip_len < ihl + udp_len || 14 + ip_len > skb->len)
		return -NT_DROP_DHCP_MALFORMED; /* truncated */
	msg_len = udp_len - 8;
	/* Both bounds again on msg_len itself, hidden from clang so it cannot
	 * drop them as implied: older verifiers (6.1) lose the lower bound in
	 * the subtraction and refuse a load of possibly 0 bytes. 64-bit
	 * compares: 6.1 does not carry 32-bit bounds over to the register. */
	asm volatile("" : "+r"(msg_len));
	if (msg_len < NT_DHCP_REQ_MIN || msg_len > NT_DHCP_REQ_MAX)
		return -NT_DROP_DHCP_MALFORMED; /* oversized */

	s = bpf_map_lookup_elem(&nt_dhcp_scratch, &zero);
	if (!s)
		return 0;
	if (bpf_skb_load_bytes(skb, 14 + ihl + 8, s->req, msg_len) < 0)
		return -NT_DROP_DHCP_MALFORMED;
	rq = (struct nt_bootp *)s->req;
	if (rq->op != NT_BOOTP_REQUEST || rq->htype != 1 || rq->hlen != NT_ETH_ALEN)
		return -NT_DROP_DHCP_MALFORMED;
	if (*(__be32 *)(s->req + NT_BOOTP_FIXED_LEN) != bpf_htonl(NT_DHCP_MAGIC_COOKIE))
		return -NT_DROP_DHCP_MALFORMED;

	w = &s->walk;
	__builtin_memset(w, 0, sizeof(*w));
	w->off = NT_DHCP_REQ_MIN;
	w->end = msg_len;
	wc.s = s;
	bpf_loop(NT_DHCP_REQ_MAX, nt_dhcp_walk_one, &wc, 0);
	if (w->status == NT_DHCP_WALK_MALFORMED)
		return -NT_DROP_DHCP_MALFORMED;

	res->rx = NT_DHCP_CNT_IGNORED;
	if (rq->giaddr || !nt_mac_eq(rq->chaddr, port->mac))
		return 0; /* relayed, or for a MAC that is not the port's */
	switch (w->msg_type) {
	case NT_DHCP_DISCOVER:
		type = NT_DHCP_OFFER;
		break;
	case NT_DHCP_REQUEST: {
		__be32 want = w->requested_ip ? w->requested_ip : rq->ciaddr;

		if (w->server_id && w->server_id != cfg->server_id)
			return 0; /* the client chose another server */
		if (!want) {
			res->rx = NT_DHCP_CNT_MALFORMED;
			return -NT_DROP_DHCP_MALFORMED; /* nothing to confirm */
		}
		type = want == cfg->yiaddr ? NT_DHCP_ACK : NT_DHCP_NAK;
		break;
	}
	case NT_DHCP_INFORM:
		type = NT_DHCP_ACK;
		break;
	case NT_DHCP_RELEASE:
	case NT_DHCP_DECLINE:
		if (w->server_id && w->server_id != cfg->server_id)
			return 0;
		/* The address is the port's for as long as the port exists:
		 * nothing to free, nothing to answer. */
		res->rx = w->msg_type;
		return -NT_DROP_DHCP_CONSUMED;
	default:
		return 0; /* BOOTP (no message type) or a type a client does not send */
	}
	res->rx = w->msg_type;

	nt_dhcp_build(&s->out, rq, cfg, type, w->msg_type == NT_DHCP_INFORM);

	if (bpf_skb_change_tail(skb, NT_DHCP_REPLY_FRAME_LEN, 0) < 0 ||
	    bpf_skb_store_bytes(skb, 0, &s->out.eth, NT_DHCP_REPLY_FRAME_LEN, BPF_F_RECOMPUTE_CSUM) < 0) {
		res->rx = NT_DHCP_CNT_MALFORMED;
		return -NT_DROP_DHCP_MALFORMED;
	}
	res->tx = type;
	return 1;
}

/* 1: the frame now holds the reply (send it back out of the tap);
 * 0: not a DHCP request this port gets answered; negative: -(drop reason). */
NT_GLOBAL int nt_dhcp_answer(struct __sk_buff *skb, const struct nt_port *port)
{
	struct nt_dhcp_result res = {};
	int r;

	if (!skb || !port)
		return 0;
	r = nt_dhcp_serve(skb, port, &res);
	if (!nt_tc_tracing(skb))
		nt_dhcp_count(port->port_tag, &res);
	return r;
}

#endif

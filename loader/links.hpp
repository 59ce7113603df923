// Network interfaces through libnl-3 (route): listing, veth pairs, state,
// addresses. Every call acts on the calling thread's network namespace.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "maps/net_types.hpp"

namespace neutrino {

std::map<std::string, uint32_t> list_interfaces();  // name -> ifindex
std::optional<uint32_t> find_ifindex(const std::string& name);

// A veth pair: `name` here, `peer_name` moved into the namespace behind
// peer_netns_fd (-1 = here), with peer_mac on the peer when given.
void create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd,
                 const std::optional<MacAddr>& peer_mac);
void delete_link(const std::string& name);  // no-op if missing
void set_link_up(const std::string& name);
void set_link_mtu(const std::string& name, uint32_t mtu);
void add_address(const std::string& name, const IpAddr& addr, int prefix);
MacAddr link_mac(const std::string& name);
// The interface that holds this address, if any.
std::optional<std::string> interface_with_address(const IpAddr& addr);
// Enables IPv4 forwarding on one interface (its per-interface sysctl); true
// when it changed something.
bool enable_ipv4_forwarding(const std::string& ifname);
// Asks the kernel to resolve a neighbour now (RTM_NEWNEIGH with NTF_USE), so
// the first tunnel packet towards it finds a next-hop MAC.
void prime_neighbour(const std::string& ifname, const IpAddr& addr);

}  // namespace neutrino

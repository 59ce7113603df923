// DHCP: the lease each local port gets, compiled into nt_dhcp, and the
// reading of it back for people. Pure.
//
// The datapath answers from nt_dhcp_config alone (bpf/lib/dhcp.h); this is
// where every decision about what a port is offered is made:
//   - the address: the port's first fixed IPv4 address on a subnet with
//     enable_dhcp (no such address: no entry, no answer);
//   - the server identifier and the Ethernet source of replies: Neutron's DHCP
//     port on the subnet (device_owner network:dhcp) if the state has one;
//     else the highest address of the subnet that nothing claims (no port's
//     fixed IP or allowed address pair, not the gateway, a host route's next
//     hop or a DNS server), outside the allocation pools when possible, with
//     a locally administered MAC of the network (02:4e:54 + 24 bits of a hash
//     of its id). Either is answered in ARP by the DHCP stage, so unicast
//     renewals and releases reach it. Never the gateway: a router (Neutron's
//     or a physical one) owns that address, and a server the client cannot
//     resolve turns every renewal into a rebinding at 7/8 of the lease;
//   - the lease: the state's "neutrino": {"dhcp_lease_duration"} (neutron.conf's
//     option of that name: 86400 s unless set, -1 for infinite);
//   - the options, rendered into bytes in the order of abi_dhcp.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "maps/entries.hpp"
#include "maps/state.hpp"

namespace neutrino {

inline constexpr const char* kDhcpConfigMap = "nt_dhcp";
inline constexpr const char* kDhcpStatsMap = "nt_dhcp_stats";

// Adds the port's nt_dhcp entry when one of its fixed IPv4 addresses is on a
// subnet with enable_dhcp. The lease is the state's
// settings.dhcp_lease_duration.
void compile_port_dhcp(const State& state, const Port& port, uint32_t port_tag, MapEntries& out);

// The value compile_port_dhcp writes for the port, or nullopt for none.
std::optional<nt_dhcp_config> dhcp_config_for(const State& state, const Port& port);

// The address the port is offered (its first fixed IPv4 address on a subnet
// with enable_dhcp), or nullopt when it gets no answer.
std::optional<IpAddr> dhcp_address_of(const State& state, const Port& port);

// The lease time as sent in option 51: seconds, or NT_DHCP_LEASE_INFINITE.
uint32_t dhcp_lease_seconds(const Settings& settings);

// One option of a rendered nt_dhcp_config, for people.
struct DhcpOption {
    int code = 0;
    std::string name;   // "subnet-mask", "router", ...
    std::string value;  // "255.255.255.0", "10.0.0.1, 10.0.0.2", "192.168.0.0/16 via 10.0.0.254", ...
};

// Walks the rendered options (PAD skipped, up to END). The message type is
// shown as "OFFER/ACK (NAK: type and server only)".
std::vector<DhcpOption> decode_dhcp_options(const nt_dhcp_config& c);

// "DISCOVER", "OFFER", ..., "ignored", "malformed", "arp-reply" for the
// indexes of nt_dhcp_stats.count; "" for an unused index.
const char* dhcp_counter_name(unsigned index);
// True for the counters of messages the server sends (OFFER, ACK, NAK).
bool dhcp_counter_is_sent(unsigned index);

}  // namespace neutrino

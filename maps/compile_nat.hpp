// NAT compile step: a router's default SNAT (external address and this
// host's slice of the port range) and the floating IPs this host translates.
// Pure.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "maps/entries.hpp"
#include "maps/state.hpp"

namespace neutrino {

// The router's external side on this host: its gateway port.
struct RouterGateway {
    const Router* router = nullptr;
    uint32_t router_id = 0;
    const Port* port = nullptr;  // network:router_gateway
    uint32_t net_id = 0;         // the external network
};

// Ports [first, last] of this host's SNAT slice: the range 1024-65535 split
// evenly among the hosts with VMs behind the router (sorted by name), so two
// hosts sharing the external address never pick the same port.
std::pair<uint16_t, uint16_t> snat_port_slice(const State& state, const Router& router, const std::string& host);

// The host that answers ARP for the router's external (SNAT) address: the
// first of those hosts. One owner keeps the upstream's view of the gateway
// MAC on one port (see docs/design.md on multi-host SNAT).
bool is_snat_owner(const State& state, const Router& router, const std::string& host);

// nt_snat (enable_snat) and, for floating IPs whose port is bound to this
// host (translated where the VM runs, as DVR does), nt_fips both ways plus
// the ARP answer for the floating IP on the external network.
void compile_router_nat(const State& state, const RouterGateway& gw, const std::string& host, MapEntries& e);

}  // namespace neutrino

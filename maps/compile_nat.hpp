// NAT compile step: a router's default SNAT (translated on its SNAT host,
// forwarded there from the others) and the floating IPs this host translates.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

// The host that translates the router's default SNAT and answers ARP for
// its external address: the gateway port's binding:host_id when that names a
// host of the state (Neutron binds a DVR router's gateway port to the node
// that runs its SNAT), else the first by name of the hosts with VMs behind
// the router. Every host computes the same answer from the same state.
std::optional<std::string> snat_host(const State& state, const Router& router);
bool is_snat_host(const State& state, const Router& router, const std::string& host);

// The router's MAC on the external network as `host` sends and answers
// there: the gateway port's own MAC on the SNAT host; on any other host (which
// only translates its own floating IPs) one derived from (router, host),
// 06:4e + 32 bits of FNV-1a, so each host's floating IPs sit behind a MAC
// the external switch learns on that host alone (DVR's per-host fg- port).
MacAddr external_mac(const State& state, const Router& router, const Port& gateway, const std::string& host);

// The router's SNAT MAC on its VLAN/flat tenant networks (06:4e + FNV-1a of
// "<router>/snat"): the SNAT host routes frames to it from other hosts' VMs
// (the tunnel carries them on VXLAN/GRE networks). Neutron's DVR uses the
// csnat port's MAC for the same hop.
MacAddr snat_transit_mac(const Router& router);

// nt_snat (enable_snat: the port range on the SNAT host, the SNAT host's
// tunnel endpoint elsewhere) and, for floating IPs whose port is bound to this
// host (translated where the VM runs, as DVR does), nt_fips both ways plus
// the ARP answer for the floating IP on the external network.
void compile_router_nat(const State& state, const RouterGateway& gw, const std::string& host, MapEntries& e);

}  // namespace neutrino

// compile: validated State -> MapEntries for one host. Pure: everything it
// needs from the kernel (interface indexes) comes in as a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "maps/entries.hpp"
#include "maps/state.hpp"

namespace neutrino {

struct CompileInput {
    std::string host;  // binding:host_id of this host
    // Interfaces that exist on this host, name -> ifindex. A local port whose
    // tap is missing is reported in CompileResult::pending, not compiled.
    std::map<std::string, uint32_t> ifindex_by_name;
    // The interface holding this host's tunnel_ip ("" = none found): the
    // tunnel endpoint for VXLAN/GRE networks.
    std::string tunnel_interface;
};

// A local port as the loader must wire it (attach programs to its tap).
struct LocalPort {
    std::string port_id;
    std::string interface_name;
    uint32_t ifindex = 0;
    uint32_t port_tag = 0;
    uint32_t net_id = 0;
};

// An external next hop to resolve at apply time, so the first packet to
// the outside finds its MAC (the datapath has no queue for an unresolved
// next hop): an ARP request "who has target, tell source" sent on the
// physnet's uplink of this host, whose reply the uplink program learns.
struct ExternalNextHop {
    std::string interface;   // this host's interface for the physnet
    uint16_t vlan = 0;       // 0: untagged (flat)
    MacAddr mac;             // the router's MAC on the external network on this host
    IpAddr source, target;   // an address this host answers for; the next hop
    auto operator<=>(const ExternalNextHop&) const = default;
};

struct CompileResult {
    MapEntries entries;
    std::vector<ExternalNextHop> external_next_hops;
    std::vector<LocalPort> local_ports;    // taps that exist: attach these
    std::vector<LocalPort> pending_ports;  // bound here, tap not present (yet)
    std::map<std::string, uint32_t> net_ids;    // network id -> compact id
    std::map<std::string, uint32_t> port_tags;  // port id -> compact tag
};

CompileResult compile(const State& state, const CompileInput& in);

// The ARP/ND responder's entries for a port: each fixed IP on net_id answers
// with the port's MAC. (Allowed-address-pair VIPs are not here: they move
// between VMs, so their current owner answers for them.)
void add_port_neighbours(const Port& port, uint32_t net_id, uint16_t flags, uint32_t port_tag, MapEntries& e);

// Stable compact 32-bit id: a UUID's first 8 hex digits (readable in map
// dumps), any other id's FNV-1a hash; never 0. Collisions are resolved by the
// caller in sorted-id order (see assign_compact_ids).
uint32_t compact_id_hint(const std::string& id);
// FNV-1a (32-bit) of s: stable across hosts and runs, for derived ids and MACs.
uint32_t fnv1a32(std::string_view s);
std::map<std::string, uint32_t> assign_compact_ids(std::vector<std::string> ids);

}  // namespace neutrino

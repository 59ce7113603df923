// The compiled form of a state: the exact entries each BPF map must hold.
// Keys and values are the ABI structs themselves, compared as bytes (the ABI
// has no implicit padding, and every struct is zero-initialised).
#pragma once

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "neutrino/abi.h"

namespace neutrino {

template <class T>
struct BytesLess {
    bool operator()(const T& a, const T& b) const { return std::memcmp(&a, &b, sizeof(T)) < 0; }
};

template <class T>
bool bytes_equal(const T& a, const T& b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class K, class V>
using Table = std::map<K, V, BytesLess<K>>;

// Every map that desired state fully determines, as
//   X(member, key type, value type, BPF map name)
// in apply order: leaves (names, classifier, neighbours, FDB, flood slots)
// before the network and port entries that make them reachable. Counters
// and conntrack are not here: the datapath owns them.
#define NT_COMPILED_MAPS(X)                                       \
    X(rule_info, __u32, nt_rule_info, "nt_rule_info")             \
    X(dhcp, __u32, nt_dhcp_config, "nt_dhcp")                     \
    X(net_info, nt_net_key, nt_net_info, "nt_net_info")           \
    X(router_info, __u32, nt_router_info, "nt_router_info")       \
    X(port_info, __u32, nt_port_info, "nt_port_info")             \
    X(addrs, nt_addr_key, nt_addr_allow, "nt_addrs")              \
    X(sg_ports, nt_sg_ports_key, nt_sg_match, "nt_sg_ports")      \
    X(sg_remote, nt_sg_remote_key, nt_sg_class, "nt_sg_remote")   \
    X(config, __u32, nt_config, "nt_config")                      \
    X(vteps, nt_vtep_key, nt_vtep, "nt_vteps")                    \
    X(fips, nt_fip_key, nt_fip, "nt_fips")                        \
    X(snat, __u32, nt_snat, "nt_snat")                            \
    X(routes, nt_route_key, nt_route, "nt_routes")                \
    X(neigh, nt_neigh_key, nt_neigh, "nt_neigh")                  \
    X(fdb, nt_fdb_key, nt_fdb_entry, "nt_fdb")                    \
    X(flood, nt_flood_key, nt_flood_entry, "nt_flood")            \
    X(nets, nt_net_key, nt_net, "nt_nets")                        \
    X(tun_nets, nt_tun_key, nt_tun_net, "nt_tun_nets")            \
    X(provider, nt_provider_key, nt_provider_net, "nt_provider")  \
    X(ports, nt_port_key, nt_port, "nt_ports")

struct MapEntries {
#define NT_ENTRIES_MEMBER(m, K, V, name) Table<K, V> m;
    NT_COMPILED_MAPS(NT_ENTRIES_MEMBER)
#undef NT_ENTRIES_MEMBER

    size_t size() const;
    bool operator==(const MapEntries& o) const;
};

// Map names, as in bpf/lib/maps.h and the pin directory.
inline constexpr const char* kMapNeigh = "nt_neigh";
inline constexpr const char* kMapFdb = "nt_fdb";
inline constexpr const char* kMapFlood = "nt_flood";
inline constexpr const char* kMapNets = "nt_nets";
inline constexpr const char* kMapPorts = "nt_ports";
inline constexpr const char* kMapPortInfo = "nt_port_info";
inline constexpr const char* kMapNetInfo = "nt_net_info";
inline constexpr const char* kMapRoutes = "nt_routes";
inline constexpr const char* kMapRouterInfo = "nt_router_info";
inline constexpr const char* kMapNat = "nt_nat";
inline constexpr const char* kMapRuleInfo = "nt_rule_info";
inline constexpr const char* kMapAttachments = "nt_attachments";
inline constexpr const char* kMapDropStats = "nt_drop_stats";
inline constexpr const char* kMapPortStats = "nt_port_stats";
inline constexpr const char* kMapRuleStats = "nt_rule_stats";
inline constexpr const char* kMapCt = "nt_ct";
inline constexpr const char* kMapCtGc = "nt_ct_gc";

}  // namespace neutrino

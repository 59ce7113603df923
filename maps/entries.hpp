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

// The maps that desired state fully determines (counters are not here).
// The order of the members is the order in which apply writes them: leaves
// before the entries that refer to them (see docs/design.md, "apply order").
struct MapEntries {
    Table<nt_neigh_key, nt_neigh> neigh;
    Table<nt_fdb_key, nt_fdb_entry> fdb;
    Table<nt_flood_key, nt_flood_entry> flood;
    Table<nt_net_key, nt_net> nets;
    Table<nt_port_key, nt_port> ports;
    // Userspace-only names (see abi.h), kept in step like any other map.
    Table<__u32, nt_port_info> port_info;
    Table<nt_net_key, nt_net_info> net_info;

    size_t size() const {
        return neigh.size() + fdb.size() + flood.size() + nets.size() + ports.size() +
               port_info.size() + net_info.size();
    }
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
inline constexpr const char* kMapAttachments = "nt_attachments";
inline constexpr const char* kMapDropStats = "nt_drop_stats";
inline constexpr const char* kMapPortStats = "nt_port_stats";

}  // namespace neutrino

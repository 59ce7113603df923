// Decoding helpers shared by the inspection files (loader/inspect*.cpp):
// fixed-size ABI fields -> userspace values.
#pragma once

#include <cstring>
#include <string>

#include "maps/entries.hpp"
#include "maps/net_types.hpp"

namespace neutrino::inspect {

inline std::string str_of(const char* s, size_t n) { return std::string(s, strnlen(s, n)); }

inline MacAddr mac_of(const uint8_t* b) {
    MacAddr m;
    std::copy(b, b + 6, m.b.begin());
    return m;
}

inline IpAddr ip_of(const nt_ip& ip) {
    IpAddr a;
    std::copy(ip.b, ip.b + 16, a.b.begin());
    return a;
}

// A network's name (and Neutron id into *id) from nt_net_info; "" if unknown.
inline std::string net_name(const MapEntries& e, uint32_t net_id, std::string* id) {
    auto it = e.net_info.find(nt_net_key{net_id});
    if (it == e.net_info.end()) return "";
    if (id) *id = str_of(it->second.id, sizeof it->second.id);
    return str_of(it->second.name, sizeof it->second.name);
}

}  // namespace neutrino::inspect

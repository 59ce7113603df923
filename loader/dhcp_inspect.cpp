// DHCP inspection from the pinned maps.
#include "loader/dhcp_inspect.hpp"

#include <arpa/inet.h>

#include "loader/datapath.hpp"
#include "loader/log.hpp"
#include "maps/bpf_map.hpp"

namespace neutrino {

namespace {

IpAddr ip_of_be32(__be32 v) { return IpAddr::v4(ntohl(v)); }

}  // namespace

DhcpPortView dhcp_port_view(const Instance& inst, const std::string& port_ref) {
    DhcpPortView v;
    v.port = inst.port_detail(port_ref).port;
    MapEntries e = inst.entries();
    if (auto it = e.dhcp.find(v.port.port_tag); it != e.dhcp.end()) {
        v.enabled = true;
        v.config = it->second;
        v.address = ip_of_be32(v.config.yiaddr);
        v.netmask = ip_of_be32(v.config.netmask);
        v.router = ip_of_be32(v.config.router);
        v.server = ip_of_be32(v.config.server_id);
        std::copy(v.config.server_mac, v.config.server_mac + 6, v.server_mac.b.begin());
        v.options = decode_dhcp_options(v.config);
    }

    nt_dhcp_stats port{}, all{};
    try {
        auto dp = Datapath::open_pinned(inst.pins());
        BpfMap<__u32, nt_dhcp_stats> stats(dp->map_fd(kDhcpStatsMap), kDhcpStatsMap);
        if (auto s = stats.lookup(v.port.port_tag)) port = *s;
        if (auto s = stats.lookup(NT_DHCP_STATS_ALL)) all = *s;
        v.counters_available = true;
    } catch (const std::exception& ex) {
        // A datapath pinned by a build without the DHCP counters.
        spdlog::debug("dhcp counters unavailable: {}", ex.what());
    }
    for (unsigned i = 1; i < NT_DHCP_CNT_MAX; i++) {
        DhcpCounterRow r;
        r.index = i;
        r.name = dhcp_counter_name(i);
        r.sent = dhcp_counter_is_sent(i);
        r.port = port.count[i];
        r.all = all.count[i];
        v.counters.push_back(r);
    }
    return v;
}

}  // namespace neutrino

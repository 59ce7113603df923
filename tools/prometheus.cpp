#include "tools/prometheus.hpp"

#include <utility>

namespace neutrino::cli {

namespace {

using Labels = std::vector<std::pair<const char*, std::string>>;

struct Series {
    Labels labels;
    nt_counter counter;
};

// HELP text escapes only \ and newline.
std::string help_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string labels_text(const Labels& labels) {
    std::string out;
    for (const auto& [name, value] : labels)
        out += std::string(out.empty() ? "{" : ",") + name + "=\"" + prometheus_label_value(value) + "\"";
    return out.empty() ? out : out + "}";
}

// Two counter families from one set of series: neutrino_<name>_packets_total
// and neutrino_<name>_bytes_total. `help` completes "Packets ..." / "Bytes ...".
void counters(std::string& out, std::string_view name, std::string_view help, const std::vector<Series>& series) {
    constexpr std::pair<const char*, __u64 nt_counter::*> kUnits[] = {{"packets", &nt_counter::packets},
                                                                      {"bytes", &nt_counter::bytes}};
    for (const auto& [unit, field] : kUnits) {
        const std::string metric = "neutrino_" + std::string(name) + "_" + unit + "_total";
        std::string what = unit;
        what[0] = static_cast<char>(what[0] - 'a' + 'A');
        out += "# HELP " + metric + " " + help_text(what + " " + std::string(help)) + "\n";
        out += "# TYPE " + metric + " counter\n";
        for (const auto& s : series)
            out += metric + labels_text(s.labels) + " " + std::to_string(s.counter.*field) + "\n";
    }
}

// One counter of a per-port or per-uplink stats struct.
template <typename Stats>
struct Family {
    const char* name;  // neutrino_<name>_{packets,bytes}_total
    const char* help;
    nt_counter Stats::*field;
};

template <typename Stats, size_t N, typename Row, typename LabelsOf>
void families(std::string& out, const Family<Stats> (&table)[N], const std::vector<Row>& rows, LabelsOf labels_of) {
    for (const auto& f : table) {
        std::vector<Series> series;
        for (const auto& r : rows) series.push_back({labels_of(r), r.stats.*f.field});
        counters(out, f.name, f.help, series);
    }
}

}  // namespace

std::string prometheus_label_value(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string prometheus_text(const std::vector<DropRow>& drops, const std::vector<PortRow>& ports,
                            const std::vector<UplinkRow>& uplinks) {
    std::string out;
    std::vector<Series> series;
    for (const auto& d : drops) series.push_back({{{"reason", d.name}}, d.counter});
    counters(out, "drop", "dropped by the datapath, by reason (`neutrino stats --all` explains each)", series);

    constexpr Family<nt_port_stats> kPort[] = {
        {"port_from_vm", "sent by the VM of a local port (tap TC ingress)", &nt_port_stats::from_vm},
        {"port_to_vm", "delivered to the VM of a local port (tap TC egress)", &nt_port_stats::to_vm},
        {"port_arp_reply", "of ARP requests from a local port answered by the ARP responder",
         &nt_port_stats::arp_reply},
        {"port_flooded", "of broadcast, unknown unicast and multicast frames from a local port replicated",
         &nt_port_stats::flooded},
        {"port_dropped", "dropped on a local port", &nt_port_stats::dropped},
    };
    families(out, kPort, ports, [](const PortRow& p) {
        return Labels{{"port", p.id}, {"name", p.name}, {"interface", p.ifname}, {"network", p.network_id}};
    });

    constexpr Family<nt_uplink_stats> kUplink[] = {
        {"uplink_encap", "sent to other hosts on an uplink (tunnel, VLAN or flat)", &nt_uplink_stats::encap},
        {"uplink_decap", "received from other hosts on an uplink for local ports", &nt_uplink_stats::decap},
        {"uplink_dropped", "of tunnel or provider traffic refused on an uplink", &nt_uplink_stats::dropped},
    };
    families(out, kUplink, uplinks, [](const UplinkRow& u) {
        return Labels{{"uplink", u.ifname.empty() ? std::to_string(u.ifindex) : u.ifname}};
    });
    return out;
}

}  // namespace neutrino::cli

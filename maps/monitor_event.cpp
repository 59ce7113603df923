#include "maps/monitor_event.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

#include "maps/drop_reasons.hpp"

namespace neutrino {

namespace {

constexpr uint16_t kEthIp = 0x0800, kEthIp6 = 0x86dd, kEthArp = 0x0806, kEthVlan = 0x8100, kEthQinQ = 0x88a8;
constexpr uint8_t kTcp = 6, kUdp = 17, kSctp = 132, kIcmp = 1, kIcmp6 = 58;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

IpAddr v4_at(const uint8_t* p) {
    return IpAddr::v4(static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
                      static_cast<uint32_t>(p[2]) << 8 | p[3]);
}

IpAddr v6_at(const uint8_t* p) {
    IpAddr a;
    std::memcpy(a.b.data(), p, 16);
    return a;
}

// The L4 header at l4 (len bytes of it captured): ports or ICMP type/code.
void decode_l4(PacketSummary& s, const uint8_t* l4, size_t len) {
    if (s.fragment) return;
    if ((s.proto == kTcp || s.proto == kUdp || s.proto == kSctp) && len >= 4) {
        s.ports = true;
        s.sport = be16(l4);
        s.dport = be16(l4 + 2);
    } else if ((s.proto == kIcmp || s.proto == kIcmp6) && len >= 2) {
        s.icmp = true;
        s.icmp_type = l4[0];
        s.icmp_code = l4[1];
    }
}

void decode_ipv4(PacketSummary& s, const uint8_t* p, size_t len) {
    if (len < 20 || (p[0] >> 4) != 4) return;
    size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    if (ihl < 20) return;
    s.ip = true;
    s.proto = p[9];
    s.src = v4_at(p + 12);
    s.dst = v4_at(p + 16);
    s.fragment = (be16(p + 6) & 0x1fff) != 0;
    if (len >= ihl) decode_l4(s, p + ihl, len - ihl);
}

void decode_ipv6(PacketSummary& s, const uint8_t* p, size_t len) {
    if (len < 40 || (p[0] >> 4) != 6) return;
    s.ip = true;
    s.src = v6_at(p + 8);
    s.dst = v6_at(p + 24);
    uint8_t next = p[6];
    size_t off = 40;
    // Extension headers (hop-by-hop, routing, destination options, fragment).
    for (int i = 0; i < 8; i++) {
        if (next == 44) {  // fragment: 8 bytes, the offset says first or not
            if (len < off + 8) break;
            s.fragment = (be16(p + off + 2) & 0xfff8) != 0;
            next = p[off];
            off += 8;
        } else if (next == 0 || next == 43 || next == 60) {
            if (len < off + 2) break;
            uint8_t n = p[off];
            off += (static_cast<size_t>(p[off + 1]) + 1) * 8;
            next = n;
        } else {
            break;
        }
    }
    s.proto = next;
    if (len >= off) decode_l4(s, p + off, len - off);
}

bool has_bit(uint64_t mask, uint32_t bit) { return bit < 64 && (mask >> bit) & 1; }

}  // namespace

MonitorLimit monitor_limit(double rate, uint32_t burst, unsigned cpus) {
    if (cpus == 0) cpus = 1;
    MonitorLimit l;
    double interval = 1e9 * cpus / rate;
    l.interval_ns = interval >= 1e18 ? uint64_t{1000000000000000000ull} : static_cast<uint64_t>(std::ceil(interval));
    if (l.interval_ns == 0) l.interval_ns = 1;
    l.burst = std::max<uint32_t>(1, (burst + cpus - 1) / cpus);
    return l;
}

std::optional<MonitorEvent> parse_monitor_event(const void* record, size_t size) {
    nt_mon_event raw;
    if (size != sizeof raw) return std::nullopt;
    std::memcpy(&raw, record, sizeof raw);
    if (raw.kind != NT_MON_DROP || raw.cap_len > NT_MON_SNAPLEN || raw.cap_len > raw.pkt_len) return std::nullopt;
    MonitorEvent e;
    e.ts_ns = raw.ts_ns;
    e.kind = raw.kind;
    e.reason = raw.reason;
    e.ifindex = raw.ifindex;
    e.pkt_len = raw.pkt_len;
    e.cpu = raw.cpu;
    e.hook = raw.hook;
    e.data.assign(raw.data, raw.data + raw.cap_len);
    return e;
}

PacketSummary decode_packet(const uint8_t* data, size_t len) {
    PacketSummary s;
    if (len < 14) return s;
    s.eth = true;
    std::memcpy(s.dst_mac.b.data(), data, 6);
    std::memcpy(s.src_mac.b.data(), data + 6, 6);
    size_t off = 12;
    uint16_t type = be16(data + off);
    while ((type == kEthVlan || type == kEthQinQ) && len >= off + 6 && s.vlans.size() < 2) {
        s.vlans.push_back(be16(data + off + 2) & 0x0fff);
        off += 4;
        type = be16(data + off);
    }
    s.ethertype = type;
    off += 2;
    const uint8_t* p = data + off;
    size_t rest = len - off;
    if (type == kEthIp) {
        decode_ipv4(s, p, rest);
    } else if (type == kEthIp6) {
        decode_ipv6(s, p, rest);
    } else if (type == kEthArp && rest >= 28 && be16(p) == 1 && be16(p + 2) == kEthIp && p[4] == 6 && p[5] == 4) {
        s.arp = true;
        s.arp_op = be16(p + 6);
        s.arp_sender = v4_at(p + 14);
        s.arp_target = v4_at(p + 24);
    }
    return s;
}

std::string ip_proto_name(uint8_t proto) {
    switch (proto) {
    case kTcp: return "tcp";
    case kUdp: return "udp";
    case kSctp: return "sctp";
    case kIcmp: return "icmp";
    case kIcmp6: return "icmp6";
    case 47: return "gre";
    default: return "proto " + std::to_string(proto);
    }
}

std::string flow_text(const PacketSummary& p) {
    if (!p.eth) return "";
    if (p.arp) {
        std::string op = p.arp_op == 1 ? "request" : p.arp_op == 2 ? "reply" : "op " + std::to_string(p.arp_op);
        return "arp " + op + " " + p.arp_sender.str() + " -> " + p.arp_target.str();
    }
    if (!p.ip) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "ethertype 0x%04x", p.ethertype);
        return buf;
    }
    std::string out = ip_proto_name(p.proto) + " ";
    auto ep = [&](const IpAddr& a, uint16_t port) {
        std::string s = a.is_v4() ? a.str() : "[" + a.str() + "]";
        return p.ports ? s + ":" + std::to_string(port) : a.str();
    };
    out += ep(p.src, p.sport) + " -> " + ep(p.dst, p.dport);
    if (p.icmp) out += " type " + std::to_string(p.icmp_type) + " code " + std::to_string(p.icmp_code);
    if (p.fragment) out += " fragment";
    return out;
}

bool MonitorFilter::matches(const MonitorEvent& e, const PacketSummary& p) const {
    if (ifindex && e.ifindex != *ifindex) return false;
    if (reasons && !has_bit(reasons, e.reason)) return false;
    if (addrs.empty()) return true;
    std::vector<IpAddr> seen;
    if (p.ip) seen = {p.src, p.dst};
    if (p.arp) seen = {p.arp_sender, p.arp_target};
    for (const auto& c : addrs)
        for (const auto& a : seen)
            if (c.contains(a)) return true;
    return false;
}

std::optional<uint32_t> parse_drop_reason(std::string_view s) {
    for (const auto& r : drop_reasons())
        if (s == r.name) return r.number;
    if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    uint32_t n = static_cast<uint32_t>(std::stoul(std::string(s)));
    for (const auto& r : drop_reasons())
        if (r.number == n) return n;
    return std::nullopt;
}

std::string utc_timestamp(uint64_t wall_ns) {
    time_t sec = static_cast<time_t>(wall_ns / 1000000000ull);
    tm t{};
    gmtime_r(&sec, &t);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
    std::snprintf(buf + n, sizeof buf - n, ".%06uZ", static_cast<unsigned>(wall_ns % 1000000000ull / 1000));
    return buf;
}

namespace {

const MonitorIface* iface_of(const MonitorNames& names, uint32_t ifindex) {
    auto it = names.find(ifindex);
    return it == names.end() ? nullptr : &it->second;
}

const char* hook_name(uint16_t hook) {
    return hook == NT_MON_HOOK_XDP ? "xdp" : hook == NT_MON_HOOK_TC ? "tc" : "?";
}

}  // namespace

std::string monitor_event_text(const MonitorEvent& e, const PacketSummary& p, const MonitorNames& names,
                               uint64_t wall_ns) {
    const MonitorIface* i = iface_of(names, e.ifindex);
    std::string where;
    if (i && !i->port_id.empty()) {
        where = "port " + (i->port_name.empty() ? i->port_id.substr(0, 8) : i->port_name) + " (" + i->ifname + ")";
        if (!i->network_id.empty())
            where += " net " + (i->network_name.empty() ? i->network_id.substr(0, 8) : i->network_name);
    } else if (i && !i->ifname.empty()) {
        where = "uplink " + i->ifname;
    } else {
        where = "ifindex " + std::to_string(e.ifindex);
    }
    std::string out = utc_timestamp(wall_ns) + " drop " + drop_reason_name(e.reason) + " " + where;
    std::string flow = flow_text(p);
    if (!flow.empty()) out += " " + flow;
    out += " len " + std::to_string(e.pkt_len);
    if (e.hook == NT_MON_HOOK_XDP) out += " (xdp)";
    return out;
}

nlohmann::json monitor_event_json(const MonitorEvent& e, const PacketSummary& p, const MonitorNames& names,
                                  uint64_t wall_ns) {
    nlohmann::json j = {{"time", utc_timestamp(wall_ns)},
                        {"kind", "drop"},
                        {"reason", drop_reason_name(e.reason)},
                        {"reason_code", e.reason},
                        {"ifindex", e.ifindex},
                        {"hook", hook_name(e.hook)},
                        {"cpu", e.cpu},
                        {"len", e.pkt_len},
                        {"captured", e.data.size()}};
    if (const MonitorIface* i = iface_of(names, e.ifindex)) {
        j["interface"] = i->ifname;
        if (!i->port_id.empty()) {
            j["port"] = i->port_id;
            j["port_name"] = i->port_name;
            j["network"] = i->network_id;
            j["network_name"] = i->network_name;
        }
    }
    if (p.eth) {
        j["src_mac"] = p.src_mac.str();
        j["dst_mac"] = p.dst_mac.str();
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%04x", p.ethertype);
        j["ethertype"] = buf;
        if (!p.vlans.empty()) j["vlans"] = p.vlans;
    }
    if (p.arp) {
        j["arp_op"] = p.arp_op;
        j["src"] = p.arp_sender.str();
        j["dst"] = p.arp_target.str();
    }
    if (p.ip) {
        j["src"] = p.src.str();
        j["dst"] = p.dst.str();
        j["proto"] = ip_proto_name(p.proto);
        if (p.ports) {
            j["sport"] = p.sport;
            j["dport"] = p.dport;
        }
        if (p.icmp) {
            j["icmp_type"] = p.icmp_type;
            j["icmp_code"] = p.icmp_code;
        }
        if (p.fragment) j["fragment"] = true;
    }
    return j;
}

}  // namespace neutrino

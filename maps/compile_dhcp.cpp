// DHCP compile step: what each local port is offered, rendered into the
// fixed layout of include/neutrino/abi_dhcp.h so the datapath only copies.
#include "maps/compile_dhcp.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <set>

#include "maps/compile.hpp"

namespace neutrino {

namespace {

uint32_t host_v4(const IpAddr& a) { return a.v4_host_order(); }

uint32_t mask_of(int prefix) { return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : 0xffffffffu << (32 - prefix); }

std::string v4_str(uint32_t host_order) { return IpAddr::v4(host_order).str(); }

void put_be32(uint8_t* p, uint32_t host_order) {
    p[0] = static_cast<uint8_t>(host_order >> 24);
    p[1] = static_cast<uint8_t>(host_order >> 16);
    p[2] = static_cast<uint8_t>(host_order >> 8);
    p[3] = static_cast<uint8_t>(host_order);
}

uint32_t get_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// A locally administered MAC per network: 02:4e:54 ("NT") + 24 bits of the
// FNV-1a hash of its id.
MacAddr network_mac(const Network& net) {
    const uint32_t h = fnv1a32(net.id);
    MacAddr m;
    m.b = {0x02, 0x4e, 0x54, static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h)};
    return m;
}

struct Server {
    uint32_t ip = 0;  // host order
    MacAddr mac;
};

// Neutron's DHCP port on the subnet if the state has one (its address and
// MAC), else the highest address of the subnet that nothing claims (see
// compile_dhcp.hpp), with the network's MAC.
Server choose_server(const State& st, const Subnet& sn, const Network& net) {
    for (const Port& p : st.ports) {
        if (p.network_id != sn.network_id || p.device_owner != "network:dhcp") continue;
        for (const FixedIp& f : p.fixed_ips)
            if (f.subnet_id == sn.id && f.ip_address.is_v4() && sn.cidr.contains(f.ip_address))
                return {host_v4(f.ip_address), p.mac_address};
    }
    // Addresses that belong to someone: ports' fixed IPs and allowed address
    // pairs, the gateway, next hops of host routes, DNS servers.
    std::set<uint32_t> used;
    std::vector<Cidr> used_ranges;
    auto claim = [&](const IpAddr& a) {
        if (a.is_v4() && sn.cidr.contains(a)) used.insert(host_v4(a));
    };
    for (const Port& p : st.ports) {
        if (p.network_id != sn.network_id) continue;
        for (const FixedIp& f : p.fixed_ips) claim(f.ip_address);
        for (const AddressPair& ap : p.allowed_address_pairs)
            if (ap.ip_address.addr.is_v4()) used_ranges.push_back(ap.ip_address);
    }
    if (sn.gateway_ip) claim(*sn.gateway_ip);
    for (const HostRoute& hr : sn.host_routes) claim(hr.nexthop);
    for (const IpAddr& d : sn.dns_nameservers) claim(d);
    auto taken = [&](uint32_t a) {
        if (used.count(a)) return true;
        IpAddr ip = IpAddr::v4(a);
        return std::any_of(used_ranges.begin(), used_ranges.end(), [&](const Cidr& c) { return c.contains(ip); });
    };
    const uint32_t mask = mask_of(sn.cidr.prefix);
    const uint32_t first = host_v4(sn.cidr.addr) & mask, last = first | ~mask;
    const uint32_t lo = sn.cidr.prefix >= 31 ? first : first + 1, hi = sn.cidr.prefix >= 31 ? last : last - 1;
    auto in_pool = [&](uint32_t a) {
        for (const auto& pool : sn.allocation_pools)
            if (pool.start.is_v4() && host_v4(pool.start) <= a && a <= host_v4(pool.end)) return true;
        return false;
    };
    for (bool avoid_pools : {true, false}) {
        int tries = 0;
        for (int64_t a = hi; a >= int64_t{lo} && tries < 65536; a--, tries++) {
            auto addr = static_cast<uint32_t>(a);
            if (!taken(addr) && !(avoid_pools && in_pool(addr))) return {addr, network_mac(net)};
        }
    }
    return {hi, network_mac(net)};
}

// Options after the fixed prefix, in priority order, each only if it fits
// (END always does).
class OptionWriter {
public:
    explicit OptionWriter(uint8_t* buf) : buf_(buf) {}
    size_t size() const { return n_; }
    void seek(size_t n) { n_ = n; }
    bool put(uint8_t code, const std::vector<uint8_t>& v) {
        if (v.size() > 255 || n_ + 2 + v.size() + 1 > NT_DHCP_OPTS_LEN) return false;
        buf_[n_++] = code;
        buf_[n_++] = static_cast<uint8_t>(v.size());
        std::copy(v.begin(), v.end(), buf_ + n_);
        n_ += v.size();
        return true;
    }
    void end() { buf_[n_++] = NT_DHCP_OPT_END; }

private:
    uint8_t* buf_;
    size_t n_ = 0;
};

std::vector<uint8_t> be32_bytes(uint32_t host_order) {
    std::vector<uint8_t> v(4);
    put_be32(v.data(), host_order);
    return v;
}

struct Route {
    uint32_t dst;  // host order, network address
    int prefix;
    uint32_t via;  // 0 = on-link
};

// RFC 3442: prefix length, the significant octets of the destination, router.
std::vector<uint8_t> classless_routes(const std::vector<Route>& routes) {
    std::vector<uint8_t> v;
    for (const Route& r : routes) {
        v.push_back(static_cast<uint8_t>(r.prefix));
        uint8_t d[4];
        put_be32(d, r.dst);
        v.insert(v.end(), d, d + (r.prefix + 7) / 8);
        uint8_t g[4];
        put_be32(g, r.via);
        v.insert(v.end(), g, g + 4);
    }
    return v;
}

bool printable_name(const std::string& s, size_t max) {
    if (s.empty() || s.size() > max) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_'; });
}

const Subnet* dhcp_subnet_of(const State& st, const Port& port, const FixedIp** fip) {
    for (const FixedIp& f : port.fixed_ips) {
        if (!f.ip_address.is_v4()) continue;
        const Subnet* sn = st.find_subnet(f.subnet_id);
        if (sn && sn->enable_dhcp && sn->cidr.family() == 4 && sn->cidr.contains(f.ip_address)) {
            *fip = &f;
            return sn;
        }
    }
    return nullptr;
}

}  // namespace

static_assert(kMaxDhcpLeaseDuration == NT_DHCP_LEASE_INFINITE - 1, "the longest finite lease");

uint32_t dhcp_lease_seconds(const Settings& settings) {
    const int64_t d = settings.dhcp_lease_duration;  // validated: kInfiniteLease or 1..kMaxDhcpLeaseDuration
    return d == kInfiniteLease || d > kMaxDhcpLeaseDuration ? NT_DHCP_LEASE_INFINITE
                                                            : static_cast<uint32_t>(std::max<int64_t>(d, 1));
}

std::optional<IpAddr> dhcp_address_of(const State& st, const Port& port) {
    const FixedIp* fip = nullptr;
    if (!dhcp_subnet_of(st, port, &fip)) return std::nullopt;
    return fip->ip_address;
}

std::optional<nt_dhcp_config> dhcp_config_for(const State& st, const Port& port) {
    const FixedIp* fip = nullptr;
    const Subnet* sn = dhcp_subnet_of(st, port, &fip);
    const Network* net = st.find_network(port.network_id);
    if (!sn || !net) return std::nullopt;

    nt_dhcp_config c;
    std::memset(&c, 0, sizeof c);
    const uint32_t mask = mask_of(sn->cidr.prefix);
    const uint32_t subnet_addr = host_v4(sn->cidr.addr) & mask;
    const Server server = choose_server(st, *sn, *net);
    const uint32_t lease = dhcp_lease_seconds(st.settings);

    // The router: the gateway, or (as Neutron does) the next hop of a host
    // route to 0.0.0.0/0 when the subnet has no gateway.
    uint32_t router = sn->gateway_ip && sn->gateway_ip->is_v4() ? host_v4(*sn->gateway_ip) : 0;
    std::vector<Route> routes;
    for (const Subnet& other : st.subnets)  // other subnets of the network are on-link
        if (other.network_id == sn->network_id && other.id != sn->id && other.cidr.family() == 4 &&
            other.cidr.network() != sn->cidr.network())
            routes.push_back({host_v4(other.cidr.addr) & mask_of(other.cidr.prefix), other.cidr.prefix, 0});
    for (const HostRoute& hr : sn->host_routes) {
        if (!hr.destination.addr.is_v4() || !hr.nexthop.is_v4()) continue;
        if (hr.destination.prefix == 0) {
            if (!router) router = host_v4(hr.nexthop);
            continue;
        }
        routes.push_back({host_v4(hr.destination.addr) & mask_of(hr.destination.prefix), hr.destination.prefix,
                          host_v4(hr.nexthop)});
    }
    // A client that takes option 121 ignores the router option (RFC 3442):
    // the default route goes in too.
    if (!routes.empty() && router) routes.push_back({0, 0, router});

    c.yiaddr = htonl(host_v4(fip->ip_address));
    c.netmask = htonl(mask);
    c.router = htonl(router);
    c.server_id = htonl(server.ip);
    c.lease_secs = lease;
    c.mtu = static_cast<uint16_t>(std::min<uint32_t>(net->mtu, 0xffff));
    std::copy(server.mac.b.begin(), server.mac.b.end(), c.server_mac);
    c.flags = NT_DHCP_F_ARP;  // a DHCP port address, or one nobody else claims
    c.prefix_len = static_cast<uint8_t>(sn->cidr.prefix);

    // The fixed prefix: message type (written by the datapath), server id,
    // lease, T1, T2 at the offsets of abi_dhcp.h.
    uint8_t* o = c.opts;
    o[0] = NT_DHCP_OPT_MSG_TYPE;
    o[1] = 1;
    o[3] = NT_DHCP_OPT_SERVER_ID;
    o[4] = 4;
    put_be32(o + 5, server.ip);
    o[NT_DHCP_OFF_LEASE] = NT_DHCP_OPT_LEASE_TIME;
    o[NT_DHCP_OFF_LEASE + 1] = 4;
    put_be32(o + NT_DHCP_OFF_LEASE + 2, lease);
    if (lease != NT_DHCP_LEASE_INFINITE) {  // else PAD: no renewing an infinite lease
        o[NT_DHCP_OFF_LEASE + 6] = NT_DHCP_OPT_RENEWAL_TIME;
        o[NT_DHCP_OFF_LEASE + 7] = 4;
        put_be32(o + NT_DHCP_OFF_LEASE + 8, lease / 2);
        o[NT_DHCP_OFF_LEASE + 12] = NT_DHCP_OPT_REBINDING_TIME;
        o[NT_DHCP_OFF_LEASE + 13] = 4;
        put_be32(o + NT_DHCP_OFF_LEASE + 14, static_cast<uint32_t>(uint64_t{lease} * 7 / 8));
    }

    OptionWriter w(o);
    w.seek(NT_DHCP_OFF_STATIC);
    w.put(NT_DHCP_OPT_SUBNET_MASK, be32_bytes(mask));
    if (router) w.put(NT_DHCP_OPT_ROUTER, be32_bytes(router));
    if (sn->cidr.prefix < 31) w.put(NT_DHCP_OPT_BROADCAST, be32_bytes(subnet_addr | ~mask));
    w.put(NT_DHCP_OPT_MTU, {static_cast<uint8_t>(c.mtu >> 8), static_cast<uint8_t>(c.mtu)});
    if (!routes.empty()) w.put(NT_DHCP_OPT_CLASSLESS_ROUTES, classless_routes(routes));  // all or nothing
    std::vector<uint8_t> dns;
    for (const IpAddr& d : sn->dns_nameservers) {
        if (!d.is_v4()) continue;
        auto b = be32_bytes(host_v4(d));
        if (w.size() + 2 + dns.size() + 4 + 1 > NT_DHCP_OPTS_LEN || dns.size() + 4 > 255) break;
        dns.insert(dns.end(), b.begin(), b.end());
    }
    if (!dns.empty()) w.put(NT_DHCP_OPT_DNS, dns);
    if (port.dns_name && !port.dns_name->empty()) {
        std::string fqdn = *port.dns_name;
        while (!fqdn.empty() && fqdn.back() == '.') fqdn.pop_back();
        auto dot = fqdn.find('.');
        std::string host = fqdn.substr(0, dot);
        std::string domain = dot == std::string::npos ? "" : fqdn.substr(dot + 1);
        if (printable_name(host, 63)) w.put(NT_DHCP_OPT_HOSTNAME, std::vector<uint8_t>(host.begin(), host.end()));
        if (printable_name(domain, 253))
            w.put(NT_DHCP_OPT_DOMAIN_NAME, std::vector<uint8_t>(domain.begin(), domain.end()));
    }
    w.end();
    c.opts_len = static_cast<uint16_t>(w.size());
    return c;
}

void compile_port_dhcp(const State& state, const Port& port, uint32_t port_tag, MapEntries& out) {
    if (auto c = dhcp_config_for(state, port)) out.dhcp[port_tag] = *c;
}

// ---- reading it back ------------------------------------------------------------

namespace {

std::string ip_list(const uint8_t* v, size_t len) {
    std::string s;
    for (size_t i = 0; i + 4 <= len; i += 4) s += (s.empty() ? "" : ", ") + v4_str(get_be32(v + i));
    return s;
}

std::string seconds(uint32_t s) { return s == NT_DHCP_LEASE_INFINITE ? "infinite" : std::to_string(s) + " s"; }

std::string routes_text(const uint8_t* v, size_t len) {
    std::string s;
    size_t i = 0;
    while (i < len) {
        int prefix = v[i++];
        size_t octets = static_cast<size_t>((prefix + 7) / 8);
        if (prefix > 32 || i + octets + 4 > len) return s + (s.empty() ? "" : ", ") + "(truncated)";
        uint8_t d[4] = {0, 0, 0, 0};
        std::memcpy(d, v + i, octets);
        i += octets;
        uint32_t via = get_be32(v + i);
        i += 4;
        s += (s.empty() ? "" : ", ") + v4_str(get_be32(d)) + "/" + std::to_string(prefix) +
             (via ? " via " + v4_str(via) : " on-link");
    }
    return s;
}

}  // namespace

std::vector<DhcpOption> decode_dhcp_options(const nt_dhcp_config& c) {
    std::vector<DhcpOption> out;
    const uint8_t* o = c.opts;
    size_t i = 0;
    while (i < NT_DHCP_OPTS_LEN) {
        uint8_t code = o[i];
        if (code == NT_DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (code == NT_DHCP_OPT_END || i + 2 > NT_DHCP_OPTS_LEN) break;
        size_t len = o[i + 1];
        if (i + 2 + len > NT_DHCP_OPTS_LEN) break;
        const uint8_t* v = o + i + 2;
        DhcpOption d;
        d.code = code;
        switch (code) {
            case NT_DHCP_OPT_MSG_TYPE: d.name = "message-type"; d.value = "OFFER | ACK | NAK"; break;
            case NT_DHCP_OPT_SERVER_ID: d.name = "server-id"; d.value = ip_list(v, len); break;
            case NT_DHCP_OPT_LEASE_TIME: d.name = "lease-time"; d.value = len == 4 ? seconds(get_be32(v)) : "?"; break;
            case NT_DHCP_OPT_RENEWAL_TIME: d.name = "renewal-time"; d.value = len == 4 ? seconds(get_be32(v)) : "?"; break;
            case NT_DHCP_OPT_REBINDING_TIME: d.name = "rebinding-time"; d.value = len == 4 ? seconds(get_be32(v)) : "?"; break;
            case NT_DHCP_OPT_SUBNET_MASK: d.name = "subnet-mask"; d.value = ip_list(v, len); break;
            case NT_DHCP_OPT_ROUTER: d.name = "router"; d.value = ip_list(v, len); break;
            case NT_DHCP_OPT_BROADCAST: d.name = "broadcast-address"; d.value = ip_list(v, len); break;
            case NT_DHCP_OPT_DNS: d.name = "dns-servers"; d.value = ip_list(v, len); break;
            case NT_DHCP_OPT_MTU: d.name = "interface-mtu"; d.value = len == 2 ? std::to_string((v[0] << 8) | v[1]) : "?"; break;
            case NT_DHCP_OPT_CLASSLESS_ROUTES: d.name = "classless-static-routes"; d.value = routes_text(v, len); break;
            case NT_DHCP_OPT_HOSTNAME: d.name = "hostname"; d.value.assign(reinterpret_cast<const char*>(v), len); break;
            case NT_DHCP_OPT_DOMAIN_NAME: d.name = "domain-name"; d.value.assign(reinterpret_cast<const char*>(v), len); break;
            default: d.name = "option-" + std::to_string(code); d.value = std::to_string(len) + " bytes"; break;
        }
        out.push_back(std::move(d));
        i += 2 + len;
    }
    return out;
}

const char* dhcp_counter_name(unsigned index) {
    static const char* const names[NT_DHCP_CNT_MAX] = {
        "",        "DISCOVER", "OFFER",   "REQUEST", "DECLINE",   "ACK",
        "NAK",     "RELEASE",  "INFORM",  "ignored", "malformed", "arp-reply",
    };
    return index < NT_DHCP_CNT_MAX ? names[index] : "";
}

bool dhcp_counter_is_sent(unsigned index) {
    return index == NT_DHCP_OFFER || index == NT_DHCP_ACK || index == NT_DHCP_NAK || index == NT_DHCP_CNT_ARP;
}

}  // namespace neutrino

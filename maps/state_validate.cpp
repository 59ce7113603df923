// validate_state: semantic checks across resources of a parsed State
// (references, ranges, duplicates), mirroring what Neutron itself enforces so
// that a state Neutron could not hold is rejected before it reaches the maps.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "maps/state.hpp"

namespace neutrino {

namespace {

std::string q(const std::string& s) { return "\"" + s + "\""; }
std::string fam(int family) { return family == 4 ? "IPv4" : "IPv6"; }
std::string idx(size_t i) { return "[" + std::to_string(i) + "]"; }

// Why name is not a usable Linux interface name (dev_valid_name), or "".
std::string bad_ifname(const std::string& name) {
    if (name.empty()) return "is empty";
    if (name.size() > 15) return "is longer than 15 characters (IFNAMSIZ)";
    if (name == "." || name == "..") return "is not allowed";
    for (unsigned char c : name) {
        if (c == '/') return "contains '/'";
        if (c == ':') return "contains ':'";
        if (std::isspace(c)) return "contains whitespace";
    }
    return "";
}

bool has_ports(uint8_t proto) {  // Neutron's SG_PORT_PROTO_NUMS
    return proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136;
}
bool is_icmp(uint8_t proto) { return proto == 1 || proto == 58; }
bool ipv6_only(uint8_t proto) {  // ICMPv6 and IPv6 extension headers
    return proto == 58 || proto == 43 || proto == 44 || proto == 59 || proto == 60;
}

class Validator {
public:
    explicit Validator(const State& s) : s_(s) {}

    std::vector<StateIssue> run() {
        index_all();
        hosts();
        networks();
        subnets();
        security_groups();
        ports();
        routers();
        floatingips();
        settings();
        return std::move(out_);
    }

private:
    const State& s_;
    std::vector<StateIssue> out_;
    // id -> index of its first occurrence, per kind.
    std::map<std::string, size_t> host_, net_, subnet_, sg_, port_, router_;

    void add(const std::string& resource, std::string path, std::string message) {
        out_.push_back({resource, std::move(path), std::move(message)});
    }

    const Network* network(const std::string& id) const {
        auto it = net_.find(id);
        return it == net_.end() ? nullptr : &s_.networks[it->second];
    }
    const Subnet* subnet(const std::string& id) const {
        auto it = subnet_.find(id);
        return it == subnet_.end() ? nullptr : &s_.subnets[it->second];
    }
    const Port* port(const std::string& id) const {
        auto it = port_.find(id);
        return it == port_.end() ? nullptr : &s_.ports[it->second];
    }

    template <typename T>
    std::map<std::string, size_t> index(const std::vector<T>& v, const std::string& key, const std::string& kind,
                                        std::string T::*field, const std::string& field_name) {
        std::map<std::string, size_t> m;
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string& id = v[i].*field;
            auto [it, fresh] = m.emplace(id, i);
            if (!fresh)
                add(kind + " " + id, "$." + key + idx(i) + "." + field_name,
                    "duplicate " + kind + " " + field_name + " " + q(id) + " (first used at $." + key +
                        idx(it->second) + ")");
        }
        return m;
    }

    void index_all() {
        host_ = index(s_.hosts, "hosts", "host", &Host::name, "name");
        net_ = index(s_.networks, "networks", "network", &Network::id, "id");
        subnet_ = index(s_.subnets, "subnets", "subnet", &Subnet::id, "id");
        sg_ = index(s_.security_groups, "security_groups", "security_group", &SecurityGroup::id, "id");
        port_ = index(s_.ports, "ports", "port", &Port::id, "id");
        router_ = index(s_.routers, "routers", "router", &Router::id, "id");
        index(s_.floatingips, "floatingips", "floatingip", &FloatingIp::id, "id");
    }

    void hosts() {
        for (size_t i = 0; i < s_.hosts.size(); ++i) {
            const Host& h = s_.hosts[i];
            for (const auto& [physnet, ifname] : h.physical_interface_mappings)
                if (auto why = bad_ifname(ifname); !why.empty())
                    add("host " + h.name, "$.hosts" + idx(i) + ".physical_interface_mappings." + physnet,
                        "interface name " + q(ifname) + " " + why);
        }
    }

    void networks() {
        // (type, physnet, segmentation id) -> first network using it.
        std::map<std::tuple<NetworkType, std::string, uint32_t>, size_t> segments;
        for (size_t i = 0; i < s_.networks.size(); ++i) {
            const Network& n = s_.networks[i];
            const std::string R = "network " + n.id, P = "$.networks" + idx(i) + ".";
            const std::string type = to_string(n.type);
            uint64_t max = 0;
            switch (n.type) {
            case NetworkType::Vlan: max = 4094; break;
            case NetworkType::Vxlan: max = 16777215; break;
            case NetworkType::Gre: max = 4294967295u; break;
            case NetworkType::Flat:
            case NetworkType::Local: break;
            }
            bool seg_ok = true;
            if (max && !n.segmentation_id) {
                add(R, P + "provider:segmentation_id",
                    "a " + type + " network needs provider:segmentation_id (1.." + std::to_string(max) + ")");
                seg_ok = false;
            } else if (max && (*n.segmentation_id < 1 || *n.segmentation_id > max)) {
                add(R, P + "provider:segmentation_id",
                    "segmentation id " + std::to_string(*n.segmentation_id) + " is out of range for " + type +
                        " (1.." + std::to_string(max) + ")");
                seg_ok = false;
            } else if (!max && n.segmentation_id) {
                add(R, P + "provider:segmentation_id",
                    "a " + type + " network must not have a provider:segmentation_id (got " +
                        std::to_string(*n.segmentation_id) + ")");
                seg_ok = false;
            }
            const bool needs_physnet = n.type == NetworkType::Flat || n.type == NetworkType::Vlan;
            const bool has_physnet = n.physical_network && !n.physical_network->empty();
            if (needs_physnet && !has_physnet) {
                add(R, P + "provider:physical_network", "a " + type + " network needs provider:physical_network");
                seg_ok = false;
            } else if (!needs_physnet && has_physnet) {
                add(R, P + "provider:physical_network",
                    "a " + type + " network must not have provider:physical_network (got " +
                        q(*n.physical_network) + ")");
                seg_ok = false;
            }
            if (seg_ok && n.type != NetworkType::Local) {
                std::string physnet = needs_physnet ? *n.physical_network : "";
                uint32_t seg = n.segmentation_id.value_or(0);
                auto [it, fresh] = segments.emplace(std::make_tuple(n.type, physnet, seg), i);
                if (!fresh) {
                    // "vlan segment physnet1/100", "flat segment public", "gre segment 1001"
                    std::string what = type + " segment " + physnet;
                    if (n.segmentation_id) what += (physnet.empty() ? "" : "/") + std::to_string(seg);
                    add(R, P + (n.segmentation_id ? "provider:segmentation_id" : "provider:physical_network"),
                        what + " is already used by network " + s_.networks[it->second].id);
                }
            }
            if (n.mtu < 68 || n.mtu > 65535)
                add(R, P + "mtu", "mtu " + std::to_string(n.mtu) + " is out of range (68..65535)");
            else if (n.mtu < 1280)
                for (const Subnet& sn : s_.subnets)
                    if (sn.network_id == n.id && sn.cidr.family() == 6) {
                        add(R, P + "mtu",
                            "mtu " + std::to_string(n.mtu) + " is below 1280, the IPv6 minimum, but IPv6 subnet " +
                                sn.id + " is on this network");
                        break;
                    }
        }
    }

    void subnets() {
        for (size_t i = 0; i < s_.subnets.size(); ++i) {
            const Subnet& sn = s_.subnets[i];
            const std::string R = "subnet " + sn.id, P = "$.subnets" + idx(i) + ".";
            const Cidr& c = sn.cidr;
            if (!network(sn.network_id)) add(R, P + "network_id", "network " + q(sn.network_id) + " does not exist");
            if (sn.ip_version != c.family())
                add(R, P + "ip_version",
                    "ip_version " + std::to_string(sn.ip_version) + " does not match cidr " + c.str() + " (" +
                        fam(c.family()) + ")");
            // Checks that an address belongs to this subnet; "" when it does.
            auto outside = [&](const IpAddr& a, const std::string& what) -> std::string {
                if (a.family() != c.family())
                    return what + " " + a.str() + " is " + fam(a.family()) + " but cidr " + c.str() + " is " +
                           fam(c.family());
                if (!c.contains(a)) return what + " " + a.str() + " is not inside cidr " + c.str();
                return "";
            };
            if (sn.gateway_ip)
                if (auto m = outside(*sn.gateway_ip, "gateway_ip"); !m.empty()) add(R, P + "gateway_ip", m);
            for (size_t j = 0; j < sn.allocation_pools.size(); ++j) {
                const auto& pool = sn.allocation_pools[j];
                const std::string pp = P + "allocation_pools" + idx(j) + ".";
                auto ms = outside(pool.start, "allocation pool start");
                auto me = outside(pool.end, "allocation pool end");
                if (!ms.empty()) add(R, pp + "start", ms);
                if (!me.empty()) add(R, pp + "end", me);
                if (ms.empty() && me.empty() && pool.end < pool.start)
                    add(R, pp + "start",
                        "allocation pool start " + pool.start.str() + " is after end " + pool.end.str());
            }
            std::set<IpAddr> dns_seen;
            for (size_t j = 0; j < sn.dns_nameservers.size(); ++j) {
                const IpAddr& d = sn.dns_nameservers[j];
                if (d.family() != c.family())
                    add(R, P + "dns_nameservers" + idx(j),
                        "dns nameserver " + d.str() + " is " + fam(d.family()) + " but the subnet is " +
                            fam(c.family()));
                else if (!dns_seen.insert(d).second)
                    add(R, P + "dns_nameservers" + idx(j), "dns nameserver " + d.str() + " is listed twice");
            }
            for (size_t j = 0; j < sn.host_routes.size(); ++j) {
                const HostRoute& hr = sn.host_routes[j];
                const std::string hp = P + "host_routes" + idx(j) + ".";
                if (hr.destination.family() != c.family())
                    add(R, hp + "destination",
                        "host route destination " + hr.destination.str() + " is " + fam(hr.destination.family()) +
                            " but the subnet is " + fam(c.family()));
                if (auto m = outside(hr.nexthop, "host route nexthop"); !m.empty()) add(R, hp + "nexthop", m);
            }
        }
    }

    void security_groups() {
        std::map<std::string, std::string> rule_ids;  // rule id -> its path
        for (size_t i = 0; i < s_.security_groups.size(); ++i) {
            const SecurityGroup& sg = s_.security_groups[i];
            const std::string R = "security_group " + sg.id;
            for (size_t k = 0; k < sg.rules.size(); ++k) {
                const SecurityGroupRule& r = sg.rules[k];
                const std::string P = "$.security_groups" + idx(i) + ".security_group_rules" + idx(k) + ".";
                if (!r.id.empty()) {
                    auto [it, fresh] = rule_ids.emplace(r.id, P + "id");
                    if (!fresh)
                        add(R, P + "id", "duplicate rule id " + q(r.id) + " (first used at " + it->second + ")");
                }
                rule(r, R, P);
            }
        }
    }

    void rule(const SecurityGroupRule& r, const std::string& R, const std::string& P) {
        const int ether = r.ethertype == Ethertype::IPv4 ? 4 : 6;
        if (r.remote_group_id && !sg_.count(*r.remote_group_id))
            add(R, P + "remote_group_id", "security group " + q(*r.remote_group_id) + " does not exist");
        if (r.remote_group_id && r.remote_ip_prefix)
            add(R, P + "remote_group_id",
                "remote_group_id " + *r.remote_group_id + " and remote_ip_prefix " + r.remote_ip_prefix->str() +
                    " are mutually exclusive");
        if (r.remote_ip_prefix && r.remote_ip_prefix->family() != ether)
            add(R, P + "remote_ip_prefix",
                "remote_ip_prefix " + r.remote_ip_prefix->str() + " is " + fam(r.remote_ip_prefix->family()) +
                    " but ethertype is " + fam(ether));
        if (r.protocol && ipv6_only(*r.protocol) && ether == 4)
            add(R, P + "protocol", "protocol " + std::to_string(*r.protocol) + " is IPv6-only but ethertype is IPv4");

        const auto& min = r.port_range_min;
        const auto& max = r.port_range_max;
        if (!min && !max) return;
        const std::string first_set = P + (min ? "port_range_min" : "port_range_max");
        if (!r.protocol) {
            add(R, first_set, "a port range needs a protocol (tcp, udp, sctp, icmp, ...); protocol is any");
        } else if (has_ports(*r.protocol)) {
            for (auto [v, name] : {std::pair{min, "port_range_min"}, std::pair{max, "port_range_max"}}) {
                if (!v)
                    add(R, P + name, std::string(name) + " must be set too (protocol " +
                                         std::to_string(*r.protocol) + " port ranges need both ends)");
                else if (*v < 1 || *v > 65535)
                    add(R, P + name, std::string(name) + " " + std::to_string(*v) + " is out of range (1..65535)");
            }
            if (min && max && *min > *max)
                add(R, P + "port_range_min",
                    "port_range_min " + std::to_string(*min) + " is greater than port_range_max " +
                        std::to_string(*max));
        } else if (is_icmp(*r.protocol)) {
            // Neutron reuses the port fields for ICMP: min is the type, max the code.
            if (min && *min > 255)
                add(R, P + "port_range_min",
                    "ICMP type (port_range_min) " + std::to_string(*min) + " is out of range (0..255)");
            if (max && *max > 255)
                add(R, P + "port_range_max",
                    "ICMP code (port_range_max) " + std::to_string(*max) + " is out of range (0..255)");
            if (max && !min)
                add(R, P + "port_range_max",
                    "ICMP code (port_range_max) " + std::to_string(*max) + " needs an ICMP type (port_range_min)");
        } else {
            add(R, first_set,
                "port ranges are only allowed for tcp, udp, sctp, dccp, udplite, icmp and icmpv6; protocol is " +
                    std::to_string(*r.protocol));
        }
    }

    void ports() {
        std::map<std::pair<std::string, MacAddr>, size_t> macs;                   // (network, mac) -> port
        std::map<std::pair<std::string, IpAddr>, size_t> ips;                     // (network, ip) -> port
        std::map<std::pair<std::string, std::string>, size_t> ifnames;           // (host, ifname) -> port
        for (size_t i = 0; i < s_.ports.size(); ++i) {
            const Port& p = s_.ports[i];
            const std::string R = "port " + p.id, P = "$.ports" + idx(i) + ".";
            if (!network(p.network_id)) add(R, P + "network_id", "network " + q(p.network_id) + " does not exist");

            const std::string mac = p.mac_address.str();
            if (p.mac_address.is_zero())
                add(R, P + "mac_address", "mac_address " + mac + " is all-zero");
            else if (p.mac_address.is_multicast())
                add(R, P + "mac_address", "mac_address " + mac + " is a multicast address");
            else if (auto [it, fresh] = macs.emplace(std::pair{p.network_id, p.mac_address}, i); !fresh)
                add(R, P + "mac_address",
                    "mac_address " + mac + " is already used by port " + s_.ports[it->second].id + " on network " +
                        p.network_id);

            for (size_t j = 0; j < p.fixed_ips.size(); ++j) fixed_ip(p, i, j, ips);

            for (size_t j = 0; j < p.security_groups.size(); ++j)
                if (!sg_.count(p.security_groups[j]))
                    add(R, P + "security_groups" + idx(j),
                        "security group " + q(p.security_groups[j]) + " does not exist");
            if (!p.port_security_enabled) {
                if (!p.security_groups.empty())
                    add(R, P + "security_groups",
                        "port_security_enabled is false, so security_groups must be empty (has " +
                            std::to_string(p.security_groups.size()) + ")");
                if (!p.allowed_address_pairs.empty())
                    add(R, P + "allowed_address_pairs",
                        "port_security_enabled is false, so allowed_address_pairs must be empty (has " +
                            std::to_string(p.allowed_address_pairs.size()) + ")");
            }

            const Host* host = nullptr;
            if (!p.host_id.empty() && !s_.hosts.empty()) {
                auto it = host_.find(p.host_id);
                if (it == host_.end())
                    add(R, P + "binding:host_id", "host " + q(p.host_id) + " is not in hosts");
                else
                    host = &s_.hosts[it->second];
            }

            if (auto why = bad_ifname(p.interface_name); !why.empty()) {
                add(R, P + "interface_name", "interface name " + q(p.interface_name) + " " + why);
            } else if (!p.host_id.empty()) {
                auto [it, fresh] = ifnames.emplace(std::pair{p.host_id, p.interface_name}, i);
                if (!fresh)
                    add(R, P + "interface_name",
                        "interface name " + p.interface_name + " is also used by port " + s_.ports[it->second].id +
                            " on host " + p.host_id);
                if (host)
                    for (const auto& [physnet, uplink] : host->physical_interface_mappings)
                        if (uplink == p.interface_name)
                            add(R, P + "interface_name",
                                "interface name " + p.interface_name + " is host " + host->name + "'s uplink for " +
                                    physnet);
            }
        }
    }

    void fixed_ip(const Port& p, size_t i, size_t j, std::map<std::pair<std::string, IpAddr>, size_t>& ips) {
        const FixedIp& f = p.fixed_ips[j];
        const std::string R = "port " + p.id, P = "$.ports" + idx(i) + ".fixed_ips" + idx(j) + ".";
        const std::string ip = f.ip_address.str();
        bool ok = true;
        if (f.subnet_id.empty()) {
            // Neutron allows naming only the address; it must then fall in one of the network's subnets.
            ok = std::any_of(s_.subnets.begin(), s_.subnets.end(), [&](const Subnet& sn) {
                return sn.network_id == p.network_id && sn.cidr.contains(f.ip_address);
            });
            if (!ok) add(R, P + "ip_address", ip + " is not inside any subnet of network " + p.network_id);
        } else if (const Subnet* sn = subnet(f.subnet_id); !sn) {
            add(R, P + "subnet_id", "subnet " + q(f.subnet_id) + " does not exist");
            ok = false;
        } else if (sn->network_id != p.network_id) {
            add(R, P + "subnet_id",
                "subnet " + sn->id + " is on network " + sn->network_id + ", not on the port's network " +
                    p.network_id);
            ok = false;
        } else if (!sn->cidr.contains(f.ip_address)) {
            add(R, P + "ip_address", ip + " is not inside subnet " + sn->id + " (" + sn->cidr.str() + ")");
            ok = false;
        }
        if (!ok) return;
        auto [it, fresh] = ips.emplace(std::pair{p.network_id, f.ip_address}, i);
        if (!fresh)
            add(R, P + "ip_address",
                ip + " is already used by port " + s_.ports[it->second].id + " on network " + p.network_id);
    }

    void routers() {
        for (size_t i = 0; i < s_.routers.size(); ++i) {
            const Router& r = s_.routers[i];
            const std::string R = "router " + r.id, P = "$.routers" + idx(i) + ".";
            if (const auto& gw = r.external_gateway_info) {
                const std::string G = P + "external_gateway_info.";
                const Network* net = network(gw->network_id);
                if (!net)
                    add(R, G + "network_id", "network " + q(gw->network_id) + " does not exist");
                else if (!net->external)
                    add(R, G + "network_id", "network " + net->id + " is not external (router:external is false)");
                for (size_t j = 0; j < gw->external_fixed_ips.size(); ++j) {
                    const ExternalFixedIp& e = gw->external_fixed_ips[j];
                    const std::string E = G + "external_fixed_ips" + idx(j) + ".";
                    const Subnet* sn = subnet(e.subnet_id);
                    if (!sn)
                        add(R, E + "subnet_id", "subnet " + q(e.subnet_id) + " does not exist");
                    else if (sn->network_id != gw->network_id)
                        add(R, E + "subnet_id",
                            "subnet " + sn->id + " is on network " + sn->network_id + ", not on the gateway network " +
                                gw->network_id);
                    else if (!sn->cidr.contains(e.ip_address))
                        add(R, E + "ip_address",
                            e.ip_address.str() + " is not inside subnet " + sn->id + " (" + sn->cidr.str() + ")");
                }
            }
            for (size_t j = 0; j < r.routes.size(); ++j) {
                const RouterRoute& rt = r.routes[j];
                if (rt.nexthop.family() != rt.destination.family())
                    add(R, P + "routes" + idx(j) + ".nexthop",
                        "nexthop " + rt.nexthop.str() + " is " + fam(rt.nexthop.family()) + " but destination " +
                            rt.destination.str() + " is " + fam(rt.destination.family()));
            }
        }
    }

    void floatingips() {
        std::map<IpAddr, size_t> addrs;
        for (size_t i = 0; i < s_.floatingips.size(); ++i) {
            const FloatingIp& f = s_.floatingips[i];
            const std::string R = "floatingip " + f.id, P = "$.floatingips" + idx(i) + ".";
            const std::string fip = f.floating_ip_address.str();
            if (const Network* net = network(f.floating_network_id); !net) {
                add(R, P + "floating_network_id", "network " + q(f.floating_network_id) + " does not exist");
            } else if (!net->external) {
                add(R, P + "floating_network_id", "network " + net->id + " is not external (router:external is false)");
            } else if (std::none_of(s_.subnets.begin(), s_.subnets.end(), [&](const Subnet& sn) {
                           return sn.network_id == net->id && sn.cidr.contains(f.floating_ip_address);
                       })) {
                add(R, P + "floating_ip_address", fip + " is not inside any subnet of network " + net->id);
            }
            if (auto [it, fresh] = addrs.emplace(f.floating_ip_address, i); !fresh)
                add(R, P + "floating_ip_address",
                    fip + " is already used by floatingip " + s_.floatingips[it->second].id);
            const Port* p = nullptr;
            if (f.port_id && !(p = port(*f.port_id)))
                add(R, P + "port_id", "port " + q(*f.port_id) + " does not exist");
            if (f.router_id && !router_.count(*f.router_id))
                add(R, P + "router_id", "router " + q(*f.router_id) + " does not exist");
            if (f.fixed_ip_address) {
                const std::string fixed = f.fixed_ip_address->str();
                if (!f.port_id) {
                    add(R, P + "fixed_ip_address", "fixed_ip_address " + fixed + " is set but port_id is null");
                } else if (p && std::none_of(p->fixed_ips.begin(), p->fixed_ips.end(), [&](const FixedIp& x) {
                               return x.ip_address == *f.fixed_ip_address;
                           })) {
                    std::string have;
                    for (const auto& x : p->fixed_ips) have += (have.empty() ? "" : ", ") + x.ip_address.str();
                    add(R, P + "fixed_ip_address",
                        fixed + " is not a fixed IP of port " + p->id + " (" + (have.empty() ? "none" : have) + ")");
                }
            }
        }
    }

    void settings() {
        const int64_t d = s_.settings.dhcp_lease_duration;
        if (d != kInfiniteLease && (d < 1 || d > kMaxDhcpLeaseDuration))
            add("", "$.neutrino.dhcp_lease_duration",
                "dhcp_lease_duration " + std::to_string(d) + " is out of range (1.." +
                    std::to_string(kMaxDhcpLeaseDuration) + " seconds, or -1 for an infinite lease)");
    }
};

}  // namespace

std::vector<StateIssue> validate_state(const State& state) { return Validator(state).run(); }

}  // namespace neutrino

// parse_state: JSON (Neutron API field names) -> State. Syntax and types only;
// cross-resource rules live in state_validate.cpp. Every problem is collected
// so one run reports all of them.
#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "maps/state.hpp"

namespace neutrino {

namespace {

using nlohmann::json;

// Which kind of JSON object a field belongs to, for the ignore tables.
enum Kind : unsigned {
    kNone = 0,  // nested value objects (fixed IPs, pools, ...): nothing ignorable
    kHost = 1u << 0,
    kNetwork = 1u << 1,
    kSubnet = 1u << 2,
    kSecurityGroup = 1u << 3,
    kRule = 1u << 4,
    kPort = 1u << 5,
    kRouter = 1u << 6,
    kFloatingIp = 1u << 7,
    kGatewayInfo = 1u << 8,  // a router's external_gateway_info
};
constexpr unsigned kNeutron = kNetwork | kSubnet | kSecurityGroup | kRule | kPort | kRouter | kFloatingIp;

struct Ignorable {
    std::string_view field;
    unsigned kinds;
};

// Neutron bookkeeping that the API and `openstack ... -f json` emit but that
// means nothing to the dataplane: accepted and dropped, only on the kinds
// that really carry it, so a misplaced field is still reported as unknown.
constexpr Ignorable kIgnorable[] = {
    {"project_id", kNeutron},
    {"tenant_id", kNeutron},
    {"description", kNeutron},
    {"tags", kNeutron},
    {"status", kNeutron},
    {"created_at", kNeutron},
    {"updated_at", kNeutron},
    {"revision_number", kNeutron},
    {"standard_attr_id", kNeutron},
    {"location", kNeutron},  // added by openstacksdk
    {"availability_zones", kNetwork | kRouter},
    {"availability_zone_hints", kNetwork | kRouter},
    {"ipv4_address_scope", kNetwork},
    {"ipv6_address_scope", kNetwork},
    {"is_default", kNetwork},
    {"shared", kNetwork | kSecurityGroup},
    {"port_security_enabled", kNetwork},  // only the port's value matters
    {"qos_policy_id", kNetwork | kPort | kFloatingIp | kGatewayInfo},
    {"qos_network_policy_id", kPort | kFloatingIp},
    {"dns_domain", kNetwork | kPort | kFloatingIp},
    {"dns_name", kFloatingIp},
    {"l2_adjacency", kNetwork},
    {"subnets", kNetwork},  // derived from subnets[].network_id
    {"is_vlan_transparent", kNetwork},
    {"vlan_transparent", kNetwork},
    {"router:external", kSubnet},  // newer Neutron mirrors the network's flag
    {"subnetpool_id", kSubnet},
    {"use_default_subnet_pool", kSubnet},
    {"service_types", kSubnet},
    {"segment_id", kSubnet},
    {"ipv6_ra_mode", kSubnet},
    {"ipv6_address_mode", kSubnet},
    {"prefix_length", kSubnet},
    {"dns_publish_fixed_ip", kSubnet},
    {"security_group_id", kRule},  // implied by the enclosing group
    {"normalized_cidr", kRule},
    {"belongs_to_default_sg", kRule},
    {"security_group_ids", kPort},  // openstacksdk's alias of security_groups
    {"extra_dhcp_opts", kPort},
    {"binding:vif_type", kPort},
    {"binding:vif_details", kPort},
    {"binding:vnic_type", kPort},
    {"binding:profile", kPort},
    {"dns_assignment", kPort},
    {"mac_learning_enabled", kPort},
    {"propagate_uplink_status", kPort},
    {"resource_request", kPort},
    {"ip_allocation", kPort},
    {"data_plane_status", kPort},
    {"numa_affinity_policy", kPort},
    {"hints", kPort},
    {"flavor_id", kRouter},
    {"ha", kRouter},
    {"interfaces_info", kRouter},  // derived from the router's ports
    {"port_details", kFloatingIp},
};

// Fields whose content would change forwarding in ways Neutrino does not
// implement: accepted only when null or empty, so Neutron output still loads.
constexpr Ignorable kEmptyOnly[] = {
    {"segments", kNetwork},
    {"remote_address_group_id", kRule},
    {"trunk_details", kPort},
    {"port_forwardings", kFloatingIp},
};

bool in_table(const auto& table, std::string_view field, unsigned kind) {
    return std::any_of(std::begin(table), std::end(table),
                       [&](const Ignorable& i) { return i.field == field && (i.kinds & kind); });
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string jq(std::string_view s) { return json(std::string(s)).dump(); }

// Appends the compact JSON text of v (as dump() writes it) to out, stopping
// soon after out holds `limit` characters. Bounded, unlike dump(), whose
// recursion overflows the stack on deeply nested input ([[[[...]]]]).
void dump_prefix(const json& v, std::string& out, size_t limit) {
    if (out.size() > limit) return;
    if (v.is_array()) {
        out += '[';
        for (size_t i = 0; i < v.size() && out.size() <= limit; ++i) {
            if (i) out += ',';
            dump_prefix(v[i], out, limit);
        }
        out += ']';
    } else if (v.is_object()) {
        out += '{';
        for (auto it = v.begin(); it != v.end() && out.size() <= limit; ++it) {
            if (it != v.begin()) out += ',';
            out += json(it.key()).dump() + ':';
            dump_prefix(it.value(), out, limit);
        }
        out += '}';
    } else {
        out += v.dump();
    }
}

// "string \"abc\"", "number 4.5", "null": names a JSON value in messages.
std::string describe(const json& v) {
    if (v.is_null()) return "null";
    std::string d;
    dump_prefix(v, d, 60);
    if (d.size() > 60) {
        size_t cut = 57;  // not inside a UTF-8 sequence: messages stay valid UTF-8
        while (cut > 0 && (static_cast<unsigned char>(d[cut]) & 0xC0) == 0x80) --cut;
        d = d.substr(0, cut) + "...";
    }
    return std::string(v.type_name()) + " " + d;
}

std::string join(const auto& names) {
    std::string s;
    for (auto n : names) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
}

// A JSON integer >= 0. Parsed text holds these as unsigned, but values built
// in code (json x = 5) are signed, so accept both.
std::optional<uint64_t> non_negative(const json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
    return std::nullopt;
}

class Reader {
public:
    std::vector<StateIssue> issues;
    void add(const std::string& resource, std::string path, std::string message) {
        issues.push_back({resource, std::move(path), std::move(message)});
    }
};

// Typed readers for one JSON value at `path`. Each records an issue and
// returns nullopt when the value is malformed.
struct Value {
    Reader& r;
    const std::string& resource;
    const json& v;
    std::string path;

    void bad(std::string message) const { r.add(resource, path, std::move(message)); }

    std::optional<std::string> string() const {
        if (v.is_string()) return v.get<std::string>();
        bad("expected a string, got " + describe(v));
        return std::nullopt;
    }
    std::optional<bool> boolean() const {
        if (v.is_boolean()) return v.get<bool>();
        bad("expected true or false, got " + describe(v));
        return std::nullopt;
    }
    std::optional<uint64_t> uint(uint64_t max) const {
        if (auto n = non_negative(v); n && *n <= max) return n;
        bad("expected an integer from 0 to " + std::to_string(max) + ", got " + describe(v));
        return std::nullopt;
    }
    std::optional<IpAddr> ip() const {
        auto s = string();
        if (!s) return std::nullopt;
        if (auto a = IpAddr::parse(*s)) return a;
        bad(jq(*s) + " is not a valid IP address (expected IPv4 like 192.0.2.1 or IPv6 like 2001:db8::1)");
        return std::nullopt;
    }
    std::optional<MacAddr> mac() const {
        auto s = string();
        if (!s) return std::nullopt;
        if (auto m = MacAddr::parse(*s)) return m;
        bad(jq(*s) + " is not a valid MAC address (expected six two-digit hex groups separated by ':', "
                     "like fa:16:3e:00:00:01)");
        return std::nullopt;
    }
    // A network in CIDR form; with single_ip, a bare address means its host prefix.
    std::optional<Cidr> cidr(bool single_ip = false) const {
        auto s = string();
        if (!s) return std::nullopt;
        if (single_ip && s->find('/') == std::string::npos) {
            if (auto a = IpAddr::parse(*s)) return Cidr::host(*a);
            bad(jq(*s) + " is not a valid IP address or CIDR");
            return std::nullopt;
        }
        if (auto c = Cidr::parse(*s)) return c;
        if (auto loose = Cidr::parse(*s, true)) {
            bad(jq(*s) + " has host bits set; expected a network address (" + loose->network().str() + ")");
        } else {
            bad(jq(*s) + " is not a valid CIDR (expected address/prefix, like 10.0.0.0/24 or 2001:db8::/64)");
        }
        return std::nullopt;
    }

};

// One JSON object: its keys are checked on construction (unknown -> issue),
// then fields are read by name. A non-object yields one issue and no fields.
class Obj {
public:
    Obj(Reader& r, const json& j, std::string resource, std::string path, std::string_view what, unsigned kind,
        std::initializer_list<std::string_view> known)
        : r_(r), j_(j), resource_(std::move(resource)), path_(std::move(path)) {
        if (!j.is_object()) {
            r_.add(resource_, path_, "expected " + std::string(what) + " object, got " + describe(j));
            return;
        }
        ok_ = true;
        for (const auto& [key, value] : j.items()) {
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            if (in_table(kIgnorable, key, kind)) continue;
            if (in_table(kEmptyOnly, key, kind)) {
                if (!value.is_null() && !(value.is_array() && value.empty()))
                    r_.add(resource_, at(key),
                           jq(key) + " is not supported (only null or [] is accepted), got " + describe(value));
                continue;
            }
            std::string msg = "unknown field " + jq(key) + " in " + std::string(what);
            for (auto k : known)
                if (edit_distance(key, k) <= 2) {
                    msg += " (did you mean " + jq(k) + "?)";
                    break;
                }
            r_.add(resource_, at(key), msg);
        }
    }

    bool ok() const { return ok_; }
    const std::string& resource() const { return resource_; }
    std::string at(std::string_view key) const { return path_ + "." + std::string(key); }

    // The value at key, or nullptr when absent; records "missing" if required.
    const json* get(std::string_view key, bool required = false) const {
        if (!ok_) return nullptr;
        auto it = j_.find(key);
        if (it != j_.end()) return &*it;
        if (required) r_.add(resource_, at(key), "missing required field " + jq(key));
        return nullptr;
    }
    Value value(std::string_view key, const json& v) const { return Value{r_, resource_, v, at(key)}; }

    std::string id(std::string_view key = "id") const {
        const json* v = get(key, true);
        if (!v) return "";
        auto s = value(key, *v).string();
        if (s && s->empty()) r_.add(resource_, at(key), jq(key) + " must not be empty");
        return s.value_or("");
    }
    std::string str(std::string_view key, bool required = false) const {
        const json* v = get(key, required);
        return v ? value(key, *v).string().value_or("") : "";
    }
    std::optional<std::string> str_or_null(std::string_view key) const {
        const json* v = get(key);
        return v && !v->is_null() ? value(key, *v).string() : std::nullopt;
    }
    bool boolean(std::string_view key, bool def) const {
        const json* v = get(key);
        return v ? value(key, *v).boolean().value_or(def) : def;
    }
    std::optional<uint64_t> uint_or_null(std::string_view key, uint64_t max) const {
        const json* v = get(key);
        return v && !v->is_null() ? value(key, *v).uint(max) : std::nullopt;
    }
    std::optional<IpAddr> ip(std::string_view key, bool required) const {
        const json* v = get(key, required);
        return v ? value(key, *v).ip() : std::nullopt;
    }
    std::optional<IpAddr> ip_or_null(std::string_view key) const {
        const json* v = get(key);
        return v && !v->is_null() ? value(key, *v).ip() : std::nullopt;
    }
    std::optional<Cidr> cidr(std::string_view key, bool required, bool single_ip = false) const {
        const json* v = get(key, required);
        return v ? value(key, *v).cidr(single_ip) : std::nullopt;
    }
    std::optional<Cidr> cidr_or_null(std::string_view key) const {
        const json* v = get(key);
        return v && !v->is_null() ? value(key, *v).cidr() : std::nullopt;
    }

    // A string from a fixed set of names, mapped to T.
    template <typename T>
    std::optional<T> one_of(std::string_view key, bool required,
                            std::initializer_list<std::pair<std::string_view, T>> names) const {
        const json* v = get(key, required);
        if (!v) return std::nullopt;
        auto s = value(key, *v).string();
        if (!s) return std::nullopt;
        std::string expected;
        for (const auto& [name, t] : names) {
            if (name == *s) return t;
            expected += (expected.empty() ? "" : ", ") + std::string(name);
        }
        r_.add(resource_, at(key), jq(*s) + " is not a valid " + std::string(key) + " (expected one of " +
                                       expected + ")");
        return std::nullopt;
    }

    // Calls fn(element, element_path) for each element of an array field.
    void each(std::string_view key, const std::function<void(const json&, const std::string&)>& fn) const {
        const json* v = get(key);
        if (!v) return;
        if (!v->is_array()) {
            r_.add(resource_, at(key), "expected an array, got " + describe(*v));
            return;
        }
        for (size_t i = 0; i < v->size(); ++i) fn((*v)[i], at(key) + "[" + std::to_string(i) + "]");
    }

private:
    Reader& r_;
    const json& j_;
    std::string resource_;
    std::string path_;
    bool ok_ = false;
};

// "network 3bb9...", or "network #2" when the object has no usable id.
std::string label(std::string_view kind, const json& j, size_t index, const char* id_key = "id") {
    if (j.is_object()) {
        auto it = j.find(id_key);
        if (it != j.end() && it->is_string() && !it->get<std::string>().empty())
            return std::string(kind) + " " + it->get<std::string>();
    }
    return std::string(kind) + " #" + std::to_string(index);
}

Host parse_host(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("host", j, i, "name"), path, "a host", kHost,
          {"name", "tunnel_ip", "physical_interface_mappings"});
    Host h;
    h.name = o.id("name");
    h.tunnel_ip = o.ip_or_null("tunnel_ip");
    if (const json* m = o.get("physical_interface_mappings")) {
        if (!m->is_object()) {
            r.add(o.resource(), o.at("physical_interface_mappings"),
                  "expected an object mapping physical network to interface, got " + describe(*m));
        } else {
            for (const auto& [physnet, ifname] : m->items()) {
                Value v{r, o.resource(), ifname, o.at("physical_interface_mappings") + "." + physnet};
                if (auto s = v.string()) h.physical_interface_mappings[physnet] = *s;
            }
        }
    }
    return h;
}

Network parse_network(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("network", j, i), path, "a network", kNetwork,
          {"id", "name", "provider:network_type", "provider:segmentation_id", "provider:physical_network", "mtu",
           "router:external", "admin_state_up"});
    Network n;
    n.id = o.id();
    n.name = o.str("name");
    n.type = o.one_of<NetworkType>("provider:network_type", true,
                                   {{"local", NetworkType::Local},
                                    {"flat", NetworkType::Flat},
                                    {"vlan", NetworkType::Vlan},
                                    {"vxlan", NetworkType::Vxlan},
                                    {"gre", NetworkType::Gre}})
                 .value_or(NetworkType::Local);
    if (auto seg = o.uint_or_null("provider:segmentation_id", std::numeric_limits<uint32_t>::max()))
        n.segmentation_id = static_cast<uint32_t>(*seg);
    n.physical_network = o.str_or_null("provider:physical_network");
    if (const json* v = o.get("mtu"))
        n.mtu = static_cast<uint32_t>(o.value("mtu", *v).uint(std::numeric_limits<uint32_t>::max()).value_or(1500));
    n.external = o.boolean("router:external", false);
    n.admin_state_up = o.boolean("admin_state_up", true);
    return n;
}

Subnet parse_subnet(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("subnet", j, i), path, "a subnet", kSubnet,
          {"id", "name", "network_id", "ip_version", "cidr", "gateway_ip", "enable_dhcp", "dns_nameservers",
           "host_routes", "allocation_pools"});
    Subnet s;
    s.id = o.id();
    s.name = o.str("name");
    s.network_id = o.str("network_id", true);
    if (const json* v = o.get("ip_version", true)) {
        if (auto n = non_negative(*v); n == 4u || n == 6u)
            s.ip_version = static_cast<int>(*n);
        else
            r.add(o.resource(), o.at("ip_version"), "expected 4 or 6, got " + describe(*v));
    }
    if (auto c = o.cidr("cidr", true)) s.cidr = *c;
    s.gateway_ip = o.ip_or_null("gateway_ip");
    s.enable_dhcp = o.boolean("enable_dhcp", true);
    o.each("dns_nameservers", [&](const json& v, const std::string& p) {
        if (auto a = Value{r, o.resource(), v, p}.ip()) s.dns_nameservers.push_back(*a);
    });
    o.each("host_routes", [&](const json& v, const std::string& p) {
        Obj e(r, v, o.resource(), p, "a host route", kNone, {"destination", "nexthop"});
        auto dst = e.cidr("destination", true);
        auto hop = e.ip("nexthop", true);
        if (dst && hop) s.host_routes.push_back({*dst, *hop});
    });
    o.each("allocation_pools", [&](const json& v, const std::string& p) {
        Obj e(r, v, o.resource(), p, "an allocation pool", kNone, {"start", "end"});
        auto start = e.ip("start", true);
        auto end = e.ip("end", true);
        if (start && end) s.allocation_pools.push_back({*start, *end});
    });
    return s;
}

// IP protocol names Neutron accepts (neutron_lib IP_PROTOCOL_MAP).
constexpr std::pair<std::string_view, uint8_t> kProtocols[] = {
    {"tcp", 6},        {"udp", 17},        {"icmp", 1},        {"icmpv6", 58},      {"ipv6-icmp", 58},
    {"sctp", 132},     {"gre", 47},        {"esp", 50},        {"ah", 51},          {"dccp", 33},
    {"egp", 8},        {"igmp", 2},        {"ipip", 4},        {"ipv6-encap", 41},  {"ipv6-frag", 44},
    {"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"ipv6-route", 43}, {"ospf", 89},        {"pgm", 113},
    {"rsvp", 46},      {"udplite", 136},   {"vrrp", 112},
};

// null / "any" -> nullopt (any protocol); a name; a number 0..255 or its string.
std::optional<uint8_t> parse_protocol(const Value& v) {
    if (v.v.is_null()) return std::nullopt;
    if (auto n = non_negative(v.v); n && *n <= 255) return static_cast<uint8_t>(*n);
    if (v.v.is_string()) {
        std::string s = v.v.get<std::string>();
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (s == "any") return std::nullopt;
        for (const auto& [name, num] : kProtocols)
            if (s == name) return num;
        auto digit = [](unsigned char c) { return std::isdigit(c) != 0; };
        if (!s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), digit) && std::stoi(s) <= 255)
            return static_cast<uint8_t>(std::stoi(s));
    }
    v.bad("invalid protocol " + describe(v.v) +
          " (expected null, \"any\", a name such as tcp, udp, icmp, icmpv6, sctp, or a number 0..255)");
    return std::nullopt;
}

SecurityGroupRule parse_rule(Reader& r, const json& j, const std::string& resource, const std::string& path) {
    Obj o(r, j, resource, path, "a security group rule", kRule,
          {"id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix",
           "remote_group_id"});
    SecurityGroupRule rule;
    rule.id = o.str("id");
    rule.direction = o.one_of<Direction>("direction", true,
                                         {{"ingress", Direction::Ingress}, {"egress", Direction::Egress}})
                         .value_or(Direction::Ingress);
    rule.ethertype =
        o.one_of<Ethertype>("ethertype", false, {{"IPv4", Ethertype::IPv4}, {"IPv6", Ethertype::IPv6}})
            .value_or(Ethertype::IPv4);
    if (const json* v = o.get("protocol")) {
        rule.protocol = parse_protocol(o.value("protocol", *v));
        // Neutron's firewall drivers treat "icmp" in an IPv6 rule as ICMPv6.
        if (rule.protocol == 1 && rule.ethertype == Ethertype::IPv6) rule.protocol = 58;
    }
    if (auto v = o.uint_or_null("port_range_min", std::numeric_limits<uint32_t>::max()))
        rule.port_range_min = static_cast<uint32_t>(*v);
    if (auto v = o.uint_or_null("port_range_max", std::numeric_limits<uint32_t>::max()))
        rule.port_range_max = static_cast<uint32_t>(*v);
    rule.remote_ip_prefix = o.cidr_or_null("remote_ip_prefix");
    rule.remote_group_id = o.str_or_null("remote_group_id");
    return rule;
}

SecurityGroup parse_security_group(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("security_group", j, i), path, "a security group", kSecurityGroup,
          {"id", "name", "stateful", "security_group_rules"});
    SecurityGroup sg;
    sg.id = o.id();
    sg.name = o.str("name");
    sg.stateful = o.boolean("stateful", true);
    o.each("security_group_rules", [&](const json& v, const std::string& p) {
        sg.rules.push_back(parse_rule(r, v, o.resource(), p));
    });
    return sg;
}

Port parse_port(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("port", j, i), path, "a port", kPort,
          {"id", "name", "network_id", "mac_address", "fixed_ips", "security_groups", "port_security_enabled",
           "allowed_address_pairs", "binding:host_id", "device_owner", "device_id", "admin_state_up", "dns_name",
           "interface_name"});
    Port p;
    p.id = o.id();
    p.name = o.str("name");
    p.network_id = o.str("network_id", true);
    if (const json* v = o.get("mac_address", true))
        if (auto m = o.value("mac_address", *v).mac()) p.mac_address = *m;
    o.each("fixed_ips", [&](const json& v, const std::string& at) {
        Obj e(r, v, o.resource(), at, "a fixed IP", kNone, {"subnet_id", "ip_address"});
        FixedIp f;
        f.subnet_id = e.str("subnet_id");
        if (auto a = e.ip("ip_address", true)) {
            f.ip_address = *a;
            p.fixed_ips.push_back(f);
        }
    });
    o.each("security_groups", [&](const json& v, const std::string& at) {
        if (auto s = Value{r, o.resource(), v, at}.string()) p.security_groups.push_back(*s);
    });
    p.port_security_enabled = o.boolean("port_security_enabled", true);
    o.each("allowed_address_pairs", [&](const json& v, const std::string& at) {
        Obj e(r, v, o.resource(), at, "an allowed address pair", kNone, {"ip_address", "mac_address"});
        AddressPair pair;
        if (const json* mac = e.get("mac_address"); mac && !mac->is_null())
            pair.mac_address = e.value("mac_address", *mac).mac();
        if (auto c = e.cidr("ip_address", true, true)) {
            pair.ip_address = *c;
            p.allowed_address_pairs.push_back(pair);
        }
    });
    p.host_id = o.str("binding:host_id");
    p.device_owner = o.str("device_owner");
    p.device_id = o.str("device_id");
    p.admin_state_up = o.boolean("admin_state_up", true);
    p.dns_name = o.str_or_null("dns_name");
    p.interface_name = o.get("interface_name") ? o.str("interface_name") : default_interface_name(p.id);
    return p;
}

Router parse_router(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("router", j, i), path, "a router", kRouter,
          {"id", "name", "distributed", "external_gateway_info", "routes", "admin_state_up"});
    Router rt;
    rt.id = o.id();
    rt.name = o.str("name");
    rt.distributed = o.boolean("distributed", false);
    if (const json* v = o.get("external_gateway_info"); v && !v->is_null()) {
        Obj g(r, *v, o.resource(), o.at("external_gateway_info"), "an external_gateway_info", kGatewayInfo,
              {"network_id", "enable_snat", "external_fixed_ips"});
        if (g.ok()) {
            ExternalGatewayInfo info;
            info.network_id = g.str("network_id", true);
            info.enable_snat = g.boolean("enable_snat", true);
            g.each("external_fixed_ips", [&](const json& e, const std::string& at) {
                Obj f(r, e, o.resource(), at, "an external fixed IP", kNone, {"subnet_id", "ip_address"});
                auto subnet = f.str("subnet_id", true);
                if (auto a = f.ip("ip_address", true)) info.external_fixed_ips.push_back({subnet, *a});
            });
            rt.external_gateway_info = info;
        }
    }
    o.each("routes", [&](const json& v, const std::string& at) {
        Obj e(r, v, o.resource(), at, "a route", kNone, {"destination", "nexthop"});
        auto dst = e.cidr("destination", true);
        auto hop = e.ip("nexthop", true);
        if (dst && hop) rt.routes.push_back({*dst, *hop});
    });
    rt.admin_state_up = o.boolean("admin_state_up", true);
    return rt;
}

FloatingIp parse_floatingip(Reader& r, const json& j, const std::string& path, size_t i) {
    Obj o(r, j, label("floatingip", j, i), path, "a floating IP", kFloatingIp,
          {"id", "floating_ip_address", "floating_network_id", "port_id", "fixed_ip_address", "router_id"});
    FloatingIp f;
    f.id = o.id();
    if (auto a = o.ip("floating_ip_address", true)) f.floating_ip_address = *a;
    f.floating_network_id = o.str("floating_network_id", true);
    f.port_id = o.str_or_null("port_id");
    f.fixed_ip_address = o.ip_or_null("fixed_ip_address");
    f.router_id = o.str_or_null("router_id");
    return f;
}

// The top-level "neutrino" object: what neutron.conf holds for Neutron's agents.
Settings parse_settings(Reader& r, const json& j) {
    Obj o(r, j, "", "$.neutrino", "a \"neutrino\" settings", kNone, {"dhcp_lease_duration"});
    Settings s;
    if (const json* v = o.get("dhcp_lease_duration")) {
        const bool fits = v->is_number_integer() &&
                          !(v->is_number_unsigned() && v->get<uint64_t>() > std::numeric_limits<int64_t>::max());
        if (fits)
            s.dhcp_lease_duration = v->get<int64_t>();  // the range is validate_state's
        else
            r.add("", o.at("dhcp_lease_duration"),
                  "expected an integer number of seconds (-1 for an infinite lease), got " + describe(*v));
    }
    return s;
}

template <typename T>
void parse_list(Reader& r, const json& doc, std::string_view key, std::vector<T>& out,
                T (*parse_one)(Reader&, const json&, const std::string&, size_t)) {
    auto it = doc.find(key);
    if (it == doc.end()) return;
    std::string path = "$." + std::string(key);
    if (!it->is_array()) {
        r.add("", path, "expected an array, got " + describe(*it));
        return;
    }
    for (size_t i = 0; i < it->size(); ++i)
        out.push_back(parse_one(r, (*it)[i], path + "[" + std::to_string(i) + "]", i));
}

}  // namespace

State parse_state(const json& doc) {
    Reader r;
    State s;
    if (!doc.is_object()) {
        r.add("", "$", "expected a JSON object at the top level, got " + describe(doc));
        throw StateError(std::move(r.issues));
    }
    static constexpr std::array<std::string_view, 8> kTop = {
        "hosts", "networks", "subnets", "security_groups", "ports", "routers", "floatingips", "neutrino"};
    for (const auto& [key, value] : doc.items()) {
        if (std::find(kTop.begin(), kTop.end(), key) != kTop.end()) continue;
        std::string msg = "unknown top-level key " + jq(key) + " (expected " + join(kTop) + ")";
        r.add("", "$." + key, msg);
    }
    parse_list(r, doc, "hosts", s.hosts, parse_host);
    parse_list(r, doc, "networks", s.networks, parse_network);
    parse_list(r, doc, "subnets", s.subnets, parse_subnet);
    parse_list(r, doc, "security_groups", s.security_groups, parse_security_group);
    parse_list(r, doc, "ports", s.ports, parse_port);
    parse_list(r, doc, "routers", s.routers, parse_router);
    parse_list(r, doc, "floatingips", s.floatingips, parse_floatingip);
    if (auto it = doc.find("neutrino"); it != doc.end()) s.settings = parse_settings(r, *it);
    if (!r.issues.empty()) throw StateError(std::move(r.issues));
    return s;
}

}  // namespace neutrino

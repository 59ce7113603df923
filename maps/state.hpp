// The desired state: Neutron API resources as C++ values. Parsing and
// validation are pure (no kernel, no files besides the input).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "maps/net_types.hpp"

namespace neutrino {

struct Host {
    std::string name;
    std::optional<IpAddr> tunnel_ip;
    std::map<std::string, std::string> physical_interface_mappings;  // physnet -> uplink
};

enum class NetworkType { Local, Flat, Vlan, Vxlan, Gre };
const char* to_string(NetworkType t);

struct Network {
    std::string id;
    std::string name;
    NetworkType type = NetworkType::Local;
    std::optional<uint32_t> segmentation_id;
    std::optional<std::string> physical_network;
    uint32_t mtu = 1500;
    bool external = false;  // router:external
    bool admin_state_up = true;
};

struct AllocationPool {
    IpAddr start;
    IpAddr end;
};

struct HostRoute {
    Cidr destination;
    IpAddr nexthop;
};

struct Subnet {
    std::string id;
    std::string name;
    std::string network_id;
    int ip_version = 4;
    Cidr cidr;
    std::optional<IpAddr> gateway_ip;
    bool enable_dhcp = true;
    std::vector<IpAddr> dns_nameservers;
    std::vector<HostRoute> host_routes;
    std::vector<AllocationPool> allocation_pools;
};

struct FixedIp {
    std::string subnet_id;
    IpAddr ip_address;
};

struct AddressPair {
    Cidr ip_address;                  // a single IP parses as a host prefix
    std::optional<MacAddr> mac_address;  // absent: the port's own MAC
};

struct Port {
    std::string id;
    std::string name;
    std::string network_id;
    MacAddr mac_address;
    std::vector<FixedIp> fixed_ips;
    std::vector<std::string> security_groups;
    bool port_security_enabled = true;
    std::vector<AddressPair> allowed_address_pairs;
    std::string host_id;       // binding:host_id ("" = unbound / distributed)
    std::string device_owner;  // compute:nova, network:router_interface, ...
    std::string device_id;
    bool admin_state_up = true;
    std::optional<std::string> dns_name;
    // The host-side interface. Neutrino extension field "interface_name";
    // default as Nova names it: "tap" + the first 11 characters of the id.
    std::string interface_name;

    bool is_vm_port() const;  // device_owner is not network:*
};

enum class Direction { Ingress, Egress };
enum class Ethertype { IPv4, IPv6 };

struct SecurityGroupRule {
    std::string id;
    Direction direction = Direction::Ingress;
    Ethertype ethertype = Ethertype::IPv4;
    std::optional<uint8_t> protocol;  // IP protocol number; nullopt = any
    std::optional<uint32_t> port_range_min;  // ICMP: type
    std::optional<uint32_t> port_range_max;  // ICMP: code
    std::optional<Cidr> remote_ip_prefix;
    std::optional<std::string> remote_group_id;
};

struct SecurityGroup {
    std::string id;
    std::string name;
    bool stateful = true;
    std::vector<SecurityGroupRule> rules;
};

struct ExternalFixedIp {
    std::string subnet_id;
    IpAddr ip_address;
};

struct ExternalGatewayInfo {
    std::string network_id;
    bool enable_snat = true;
    std::vector<ExternalFixedIp> external_fixed_ips;
};

struct RouterRoute {
    Cidr destination;
    IpAddr nexthop;
};

struct Router {
    std::string id;
    std::string name;
    bool distributed = false;
    std::optional<ExternalGatewayInfo> external_gateway_info;
    std::vector<RouterRoute> routes;
    bool admin_state_up = true;
};

struct FloatingIp {
    std::string id;
    IpAddr floating_ip_address;
    std::string floating_network_id;
    std::optional<std::string> port_id;
    std::optional<IpAddr> fixed_ip_address;
    std::optional<std::string> router_id;
};

// What Neutron keeps in neutron.conf rather than in its API: the optional
// top-level "neutrino" object of the state.
struct Settings {
    // Seconds a DHCP lease lasts (neutron.conf [DEFAULT] dhcp_lease_duration,
    // default 86400), or kInfiniteLease. validate_state allows
    // kInfiniteLease and 1..kMaxDhcpLeaseDuration.
    int64_t dhcp_lease_duration = 86400;
};
inline constexpr int64_t kInfiniteLease = -1;  // as in neutron.conf
inline constexpr int64_t kMaxDhcpLeaseDuration = 0xfffffffe;  // 0xffffffff is DHCP's "infinite"

// Resources keep file order, so the index of a resource is its JSON path
// index ($.ports[3] is ports[3]).
struct State {
    Settings settings;
    std::vector<Host> hosts;
    std::vector<Network> networks;
    std::vector<Subnet> subnets;
    std::vector<SecurityGroup> security_groups;
    std::vector<Port> ports;
    std::vector<Router> routers;
    std::vector<FloatingIp> floatingips;

    const Host* find_host(const std::string& name) const;
    const Network* find_network(const std::string& id) const;
    const Subnet* find_subnet(const std::string& id) const;
    const Port* find_port(const std::string& id) const;
    const SecurityGroup* find_security_group(const std::string& id) const;
    const Router* find_router(const std::string& id) const;
};

// One problem in the input: which resource, where in the JSON, what is wrong.
struct StateIssue {
    std::string resource;  // "port c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e" ("" for file-level)
    std::string path;      // "$.ports[0].fixed_ips[0].ip_address"
    std::string message;   // "192.168.2.5 is not inside subnet 6e1e... (192.168.1.0/24)"
    std::string str() const;  // "port c1ee…: $.ports[0]…: message"
};

class StateError : public std::runtime_error {
public:
    explicit StateError(std::vector<StateIssue> issues);
    const std::vector<StateIssue>& issues() const { return issues_; }

private:
    std::vector<StateIssue> issues_;
};

// JSON -> State. Rejects unknown fields, wrong types and malformed values;
// throws StateError listing every problem found.
State parse_state(const nlohmann::json& doc);
// Semantic checks across resources (references, ranges, duplicates).
std::vector<StateIssue> validate_state(const State& state);
// parse + validate; throws StateError. The file is read whole first.
State load_state_file(const std::string& path);
State load_state_text(const std::string& text, const std::string& origin = "<input>");

// Nova's tap name for a port: "tap" + first 11 characters of the port id.
std::string default_interface_name(const std::string& port_id);

}  // namespace neutrino

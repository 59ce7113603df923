// validate_state: one test per class of semantic error, each on a copy of the
// example with one field changed, asserting resource, exact path and message.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "maps/state.hpp"
#include "state_issues.hpp"

using namespace neutrino;
using nlohmann::json;
using namespace neutrino::test;

namespace {

json example() {
    static const json doc = [] {
        std::ifstream in(NT_EXAMPLES "/neutron-state.json");
        return json::parse(in);
    }();
    return doc;
}

std::vector<StateIssue> validate(const json& doc) { return validate_state(parse_state(doc)); }


// Ids from the example.
const std::string kNetA = "3bb9ca55-d2e5-45eb-b782-e4de1f60014a";     // gre, 192.168.1.0/24
const std::string kNetB = "8a2c1f40-7f5e-4b7e-9c7d-2d1e7e0b9c11";     // vxlan, 192.168.1.0/24
const std::string kNetVlan = "c0a8b3a6-1d1e-4a43-8f0e-6a7f1c2d3e4f";  // vlan physnet1/100
const std::string kNetPub = "f27a9d7c-5b55-4a44-9a0e-1f2e3d4c5b6a";   // flat public, external
const std::string kSubA = "6e1e7a4b-7c3c-4f5d-9d2b-0b5a4c3d2e1f";
const std::string kSubB = "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a";
const std::string kSubPub = "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901";
const std::string kSgDefault = "5f1c9e2a-3b4d-4c5e-8f6a-7b8c9d0e1f2a";
const std::string kSgWeb = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";
const std::string kPortA1 = "c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e";
const std::string kPortA2 = "d2ff0536-d1b5-4d95-8e4d-2a3b4c5d6e7f";
const std::string kPortB1 = "e3001647-e2c6-4ea6-9f5e-3b4c5d6e7f80";
const std::string kRouter = "014e0e10-47fc-469f-9883-3a5130fc79e6";
const std::string kFip = "a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d";

const std::string kRules1 = "$.security_groups[1].security_group_rules";

}  // namespace

TEST(StateValidate, SameCidrAndIpOnDifferentNetworksIsValid) {
    // Ports a1 and b1 both hold 192.168.1.17, on different networks.
    EXPECT_EQ(dump(validate(example())), " (no issues)");
}

TEST(StateValidate, Ipv6SubnetAndPortAccepted) {
    json doc = example();
    doc["subnets"].push_back({{"id", "v6-a"},
                              {"network_id", kNetA},
                              {"ip_version", 6},
                              {"cidr", "2001:db8:1::/64"},
                              {"gateway_ip", "2001:db8:1::1"},
                              {"dns_nameservers", {"2001:db8::53"}},
                              {"allocation_pools", {{{"start", "2001:db8:1::10"}, {"end", "2001:db8:1::ffff"}}}}});
    doc["ports"][0]["fixed_ips"].push_back({{"subnet_id", "v6-a"}, {"ip_address", "2001:db8:1::17"}});
    doc["ports"][1]["allowed_address_pairs"].push_back({{"ip_address", "2001:db8:1::/80"}});
    doc["security_groups"][1]["security_group_rules"].push_back({{"direction", "ingress"},
                                                                 {"ethertype", "IPv6"},
                                                                 {"protocol", "icmpv6"},
                                                                 {"port_range_min", 128},
                                                                 {"remote_ip_prefix", "::/0"}});
    doc["networks"][0]["mtu"] = 1280;
    State s = parse_state(doc);
    EXPECT_EQ(dump(validate_state(s)), " (no issues)");
    EXPECT_EQ(s.ports[0].fixed_ips[1].ip_address.str(), "2001:db8:1::17");
    EXPECT_EQ(s.subnets[4].cidr.family(), 6);
    EXPECT_EQ(s.security_groups[1].rules[3].protocol, 58);
}

// ---- duplicates ------------------------------------------------------------------

TEST(StateValidate, DuplicateNetworkId) {
    json doc = example();
    json dup = doc["networks"][0];
    dup["provider:segmentation_id"] = 1002;  // only the id clashes
    doc["networks"].push_back(dup);
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetA, "$.networks[4].id",
                           {"duplicate network id \"" + kNetA + "\"", "$.networks[0]"}));
}

TEST(StateValidate, DuplicatePortId) {
    json doc = example();
    json dup = doc["ports"][3];
    dup["mac_address"] = "fa:16:3e:c1:00:99";
    dup["fixed_ips"][0]["ip_address"] = "10.100.0.99";
    dup["binding:host_id"] = "compute-2";
    doc["ports"].push_back(dup);
    EXPECT_TRUE(only_issue(validate(doc), "port f4112758-f3d7-4fb7-8a6f-4c5d6e7f8091", "$.ports[6].id",
                           {"duplicate port id", "$.ports[3]"}));
}

TEST(StateValidate, DuplicateHostName) {
    json doc = example();
    doc["hosts"][1]["name"] = "compute-1";
    auto issues = validate(doc);
    // compute-2's ports now point at a missing host too.
    EXPECT_TRUE(has_issue(issues, "host compute-1", "$.hosts[1].name",
                          {"duplicate host name \"compute-1\"", "$.hosts[0]"}));
}

TEST(StateValidate, DuplicateMacInNetwork) {
    json doc = example();
    doc["ports"][1]["mac_address"] = "fa:16:3e:a1:00:01";
    doc["ports"][1]["allowed_address_pairs"][0].erase("mac_address");
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA2, "$.ports[1].mac_address",
                           {"fa:16:3e:a1:00:01", "already used by port " + kPortA1, "network " + kNetA}));
}

TEST(StateValidate, SameMacOnDifferentNetworksIsValid) {
    json doc = example();
    doc["ports"][2]["mac_address"] = "fa:16:3e:a1:00:01";
    EXPECT_EQ(dump(validate(doc)), " (no issues)");
}

TEST(StateValidate, DuplicateIpInNetwork) {
    json doc = example();
    doc["ports"][1]["fixed_ips"][0]["ip_address"] = "192.168.1.17";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA2, "$.ports[1].fixed_ips[0].ip_address",
                           {"192.168.1.17 is already used by port " + kPortA1, "network " + kNetA}));
}

TEST(StateValidate, DuplicateSegment) {
    json doc = example();
    doc["networks"][1]["provider:network_type"] = "gre";
    doc["networks"][1]["provider:segmentation_id"] = 1001;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetB, "$.networks[1].provider:segmentation_id",
                           {"gre segment 1001 is already used by network " + kNetA}));
}

TEST(StateValidate, SameSegmentIdOfDifferentTypesIsValid) {
    json doc = example();
    doc["networks"][1]["provider:segmentation_id"] = 1001;  // vxlan 1001 vs gre 1001
    EXPECT_EQ(dump(validate(doc)), " (no issues)");
}

TEST(StateValidate, TwoFlatNetworksOnOnePhysnet) {
    json doc = example();
    doc["networks"][2]["provider:network_type"] = "flat";
    doc["networks"][2]["provider:physical_network"] = "public";
    doc["networks"][2]["provider:segmentation_id"] = nullptr;
    // Reported on the later network in file order.
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetPub, "$.networks[3].provider:physical_network",
                           {"flat segment public is already used by network " + kNetVlan}));
}

// ---- references ---------------------------------------------------------------------

TEST(StateValidate, SubnetUnknownNetwork) {
    json doc = example();
    doc["subnets"][2]["network_id"] = "no-such-net";
    auto issues = validate(doc);
    EXPECT_TRUE(has_issue(issues, "subnet 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "$.subnets[2].network_id",
                          {"network \"no-such-net\" does not exist"}));
}

TEST(StateValidate, PortUnknownNetwork) {
    json doc = example();
    doc["ports"][0]["network_id"] = "no-such-net";
    EXPECT_TRUE(has_issue(validate(doc), "port " + kPortA1, "$.ports[0].network_id",
                          {"network \"no-such-net\" does not exist"}));
}

TEST(StateValidate, FixedIpUnknownSubnet) {
    json doc = example();
    doc["ports"][0]["fixed_ips"][0]["subnet_id"] = "no-such-subnet";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].fixed_ips[0].subnet_id",
                           {"subnet \"no-such-subnet\" does not exist"}));
}

TEST(StateValidate, FixedIpSubnetOnOtherNetwork) {
    json doc = example();
    doc["ports"][0]["fixed_ips"][0]["subnet_id"] = kSubB;
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].fixed_ips[0].subnet_id",
                           {"subnet " + kSubB + " is on network " + kNetB, "port's network " + kNetA}));
}

TEST(StateValidate, FixedIpOutsideSubnet) {
    json doc = example();
    doc["ports"][2]["fixed_ips"][0]["ip_address"] = "192.168.2.5";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortB1, "$.ports[2].fixed_ips[0].ip_address",
                           {"192.168.2.5 is not inside subnet " + kSubB, "192.168.1.0/24"}));
}

TEST(StateValidate, FixedIpWithoutSubnetMustFallInOne) {
    json doc = example();
    doc["ports"][0]["fixed_ips"][0].erase("subnet_id");
    EXPECT_EQ(dump(validate(doc)), " (no issues)");
    doc["ports"][0]["fixed_ips"][0]["ip_address"] = "10.0.0.5";
    doc["floatingips"][0]["fixed_ip_address"] = "10.0.0.5";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].fixed_ips[0].ip_address",
                           {"10.0.0.5 is not inside any subnet of network " + kNetA}));
}

TEST(StateValidate, PortUnknownSecurityGroup) {
    json doc = example();
    doc["ports"][0]["security_groups"][1] = "no-such-sg";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].security_groups[1]",
                           {"security group \"no-such-sg\" does not exist"}));
}

TEST(StateValidate, RuleUnknownRemoteGroup) {
    json doc = example();
    doc["security_groups"][0]["security_group_rules"][2]["remote_group_id"] = "no-such-sg";
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgDefault,
                           "$.security_groups[0].security_group_rules[2].remote_group_id",
                           {"security group \"no-such-sg\" does not exist"}));
}

TEST(StateValidate, PortBoundToUnknownHost) {
    json doc = example();
    doc["ports"][0]["binding:host_id"] = "compute-9";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].binding:host_id",
                           {"host \"compute-9\" is not in hosts"}));
}

TEST(StateValidate, HostIdUncheckedWithoutHosts) {
    json doc = example();
    doc.erase("hosts");
    doc["ports"][0]["binding:host_id"] = "compute-9";
    EXPECT_EQ(dump(validate(doc)), " (no issues)");
}

TEST(StateValidate, RouterGatewayUnknownNetwork) {
    json doc = example();
    doc["routers"][0]["external_gateway_info"]["network_id"] = "no-such-net";
    auto issues = validate(doc);
    EXPECT_TRUE(has_issue(issues, "router " + kRouter, "$.routers[0].external_gateway_info.network_id",
                          {"network \"no-such-net\" does not exist"}));
}

TEST(StateValidate, RouterGatewayNetworkNotExternal) {
    json doc = example();
    doc["networks"][3]["router:external"] = false;
    auto issues = validate(doc);
    EXPECT_TRUE(has_issue(issues, "router " + kRouter, "$.routers[0].external_gateway_info.network_id",
                          {"network " + kNetPub + " is not external"}));
}

TEST(StateValidate, RouterExternalFixedIpSubnetOnOtherNetwork) {
    json doc = example();
    doc["routers"][0]["external_gateway_info"]["external_fixed_ips"][0]["subnet_id"] = kSubA;
    EXPECT_TRUE(only_issue(validate(doc), "router " + kRouter,
                           "$.routers[0].external_gateway_info.external_fixed_ips[0].subnet_id",
                           {"subnet " + kSubA + " is on network " + kNetA, "gateway network " + kNetPub}));
}

TEST(StateValidate, RouterExternalFixedIpOutsideSubnet) {
    json doc = example();
    doc["routers"][0]["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] = "172.31.209.2";
    EXPECT_TRUE(only_issue(validate(doc), "router " + kRouter,
                           "$.routers[0].external_gateway_info.external_fixed_ips[0].ip_address",
                           {"172.31.209.2 is not inside subnet " + kSubPub, "172.31.208.0/24"}));
}

TEST(StateValidate, FloatingIpUnknownNetwork) {
    json doc = example();
    doc["floatingips"][0]["floating_network_id"] = "no-such-net";
    EXPECT_TRUE(only_issue(validate(doc), "floatingip " + kFip, "$.floatingips[0].floating_network_id",
                           {"network \"no-such-net\" does not exist"}));
}

TEST(StateValidate, FloatingIpOutsideExternalSubnets) {
    json doc = example();
    doc["floatingips"][0]["floating_ip_address"] = "203.0.113.10";
    EXPECT_TRUE(only_issue(validate(doc), "floatingip " + kFip, "$.floatingips[0].floating_ip_address",
                           {"203.0.113.10 is not inside any subnet of network " + kNetPub}));
}

TEST(StateValidate, FloatingIpUnknownPort) {
    json doc = example();
    doc["floatingips"][0]["port_id"] = "no-such-port";
    EXPECT_TRUE(only_issue(validate(doc), "floatingip " + kFip, "$.floatingips[0].port_id",
                           {"port \"no-such-port\" does not exist"}));
}

TEST(StateValidate, FloatingIpUnknownRouter) {
    json doc = example();
    doc["floatingips"][0]["router_id"] = "no-such-router";
    EXPECT_TRUE(only_issue(validate(doc), "floatingip " + kFip, "$.floatingips[0].router_id",
                           {"router \"no-such-router\" does not exist"}));
}

TEST(StateValidate, FloatingIpFixedAddressNotOnPort) {
    json doc = example();
    doc["floatingips"][0]["fixed_ip_address"] = "192.168.1.18";
    EXPECT_TRUE(only_issue(validate(doc), "floatingip " + kFip, "$.floatingips[0].fixed_ip_address",
                           {"192.168.1.18 is not a fixed IP of port " + kPortA1, "(192.168.1.17)"}));
}

// ---- subnets ---------------------------------------------------------------------------

TEST(StateValidate, SubnetIpVersionMismatch) {
    json doc = example();
    doc["subnets"][0]["ip_version"] = 6;
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubA, "$.subnets[0].ip_version",
                           {"ip_version 6 does not match cidr 192.168.1.0/24 (IPv4)"}));
}

TEST(StateValidate, GatewayOutsideCidr) {
    json doc = example();
    doc["subnets"][0]["gateway_ip"] = "192.168.2.1";
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubA, "$.subnets[0].gateway_ip",
                           {"gateway_ip 192.168.2.1 is not inside cidr 192.168.1.0/24"}));
}

TEST(StateValidate, GatewayWrongFamily) {
    json doc = example();
    doc["subnets"][0]["gateway_ip"] = "2001:db8::1";
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubA, "$.subnets[0].gateway_ip",
                           {"gateway_ip 2001:db8::1 is IPv6", "192.168.1.0/24 is IPv4"}));
}

TEST(StateValidate, AllocationPoolOutsideCidr) {
    json doc = example();
    doc["subnets"][0]["allocation_pools"][0]["end"] = "192.168.2.254";
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubA, "$.subnets[0].allocation_pools[0].end",
                           {"allocation pool end 192.168.2.254 is not inside cidr 192.168.1.0/24"}));
}

TEST(StateValidate, AllocationPoolStartAfterEnd) {
    json doc = example();
    doc["subnets"][0]["allocation_pools"][0] = {{"start", "192.168.1.200"}, {"end", "192.168.1.20"}};
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubA, "$.subnets[0].allocation_pools[0].start",
                           {"start 192.168.1.200 is after end 192.168.1.20"}));
}

TEST(StateValidate, DnsNameserverWrongFamily) {
    json doc = example();
    doc["subnets"][0]["dns_nameservers"][0] = "2001:db8::53";
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubA, "$.subnets[0].dns_nameservers[0]",
                           {"dns nameserver 2001:db8::53 is IPv6 but the subnet is IPv4"}));
}

TEST(StateValidate, HostRouteNexthopWrongFamily) {
    json doc = example();
    doc["subnets"][1]["host_routes"][0]["nexthop"] = "2001:db8::254";
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubB, "$.subnets[1].host_routes[0].nexthop",
                           {"nexthop 2001:db8::254 is IPv6", "is IPv4"}));
}

TEST(StateValidate, HostRouteNexthopOutsideCidr) {
    json doc = example();
    doc["subnets"][1]["host_routes"][0]["nexthop"] = "10.0.0.254";
    EXPECT_TRUE(only_issue(validate(doc), "subnet " + kSubB, "$.subnets[1].host_routes[0].nexthop",
                           {"host route nexthop 10.0.0.254 is not inside cidr 192.168.1.0/24"}));
}

// ---- segmentation and mtu ----------------------------------------------------------

TEST(StateValidate, VlanIdOutOfRange) {
    json doc = example();
    doc["networks"][2]["provider:segmentation_id"] = 4095;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetVlan, "$.networks[2].provider:segmentation_id",
                           {"segmentation id 4095 is out of range for vlan (1..4094)"}));
}

TEST(StateValidate, VlanNeedsSegmentationId) {
    json doc = example();
    doc["networks"][2]["provider:segmentation_id"] = nullptr;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetVlan, "$.networks[2].provider:segmentation_id",
                           {"a vlan network needs provider:segmentation_id"}));
}

TEST(StateValidate, VxlanVniOutOfRange) {
    json doc = example();
    doc["networks"][1]["provider:segmentation_id"] = 16777216;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetB, "$.networks[1].provider:segmentation_id",
                           {"segmentation id 16777216 is out of range for vxlan (1..16777215)"}));
}

TEST(StateValidate, GreKeyZero) {
    json doc = example();
    doc["networks"][0]["provider:segmentation_id"] = 0;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetA, "$.networks[0].provider:segmentation_id",
                           {"segmentation id 0 is out of range for gre (1..4294967295)"}));
}

TEST(StateValidate, FlatMustNotHaveSegmentationId) {
    json doc = example();
    doc["networks"][3]["provider:segmentation_id"] = 5;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetPub, "$.networks[3].provider:segmentation_id",
                           {"a flat network must not have a provider:segmentation_id (got 5)"}));
}

TEST(StateValidate, FlatNeedsPhysicalNetwork) {
    json doc = example();
    doc["networks"][3].erase("provider:physical_network");
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetPub, "$.networks[3].provider:physical_network",
                           {"a flat network needs provider:physical_network"}));
}

TEST(StateValidate, VxlanMustNotHavePhysicalNetwork) {
    json doc = example();
    doc["networks"][1]["provider:physical_network"] = "physnet1";
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetB, "$.networks[1].provider:physical_network",
                           {"a vxlan network must not have provider:physical_network (got \"physnet1\")"}));
}

TEST(StateValidate, MtuOutOfRange) {
    json doc = example();
    doc["networks"][0]["mtu"] = 67;
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetA, "$.networks[0].mtu",
                           {"mtu 67 is out of range (68..65535)"}));
}

TEST(StateValidate, Ipv6SubnetNeedsMtu1280) {
    json doc = example();
    doc["networks"][0]["mtu"] = 1279;
    doc["subnets"].push_back({{"id", "v6-a"}, {"network_id", kNetA}, {"ip_version", 6}, {"cidr", "2001:db8::/64"}});
    EXPECT_TRUE(only_issue(validate(doc), "network " + kNetA, "$.networks[0].mtu",
                           {"mtu 1279 is below 1280", "IPv6 subnet v6-a"}));
}

// ---- interface names -----------------------------------------------------------------

TEST(StateValidate, InterfaceNameTooLong) {
    json doc = example();
    doc["ports"][0]["interface_name"] = "tap0123456789abc";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].interface_name",
                           {"\"tap0123456789abc\" is longer than 15 characters"}));
}

TEST(StateValidate, InterfaceNameWithSlashOrSpaceOrDots) {
    for (const char* bad : {"tap/1", "tap 1", "..", "."}) {
        json doc = example();
        doc["ports"][0]["interface_name"] = bad;
        EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].interface_name",
                               {"interface name \"" + std::string(bad) + "\""}))
            << bad;
    }
}

TEST(StateValidate, HostMappingInterfaceNameInvalid) {
    json doc = example();
    doc["hosts"][0]["physical_interface_mappings"]["physnet1"] = "";
    EXPECT_TRUE(only_issue(validate(doc), "host compute-1", "$.hosts[0].physical_interface_mappings.physnet1",
                           {"interface name \"\" is empty"}));
}

TEST(StateValidate, DuplicateInterfaceNameOnHost) {
    json doc = example();
    doc["ports"][2]["interface_name"] = "tapc1eef425-c0";  // b1 is on compute-1 like a1
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortB1, "$.ports[2].interface_name",
                           {"tapc1eef425-c0 is also used by port " + kPortA1, "host compute-1"}));
}

TEST(StateValidate, SameInterfaceNameOnDifferentHostsIsValid) {
    json doc = example();
    doc["ports"][0]["interface_name"] = "vm0";  // compute-1
    doc["ports"][1]["interface_name"] = "vm0";  // compute-2
    EXPECT_EQ(dump(validate(doc)), " (no issues)");
}

TEST(StateValidate, InterfaceNameClashesWithUplink) {
    json doc = example();
    doc["ports"][0]["interface_name"] = "eth1";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].interface_name",
                           {"eth1 is host compute-1's uplink for physnet1"}));
}

// ---- ports -------------------------------------------------------------------------------

TEST(StateValidate, MulticastMac) {
    json doc = example();
    doc["ports"][0]["mac_address"] = "01:00:5e:00:00:01";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].mac_address",
                           {"01:00:5e:00:00:01 is a multicast address"}));
}

TEST(StateValidate, ZeroMac) {
    json doc = example();
    doc["ports"][0]["mac_address"] = "00:00:00:00:00:00";
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].mac_address",
                           {"00:00:00:00:00:00 is all-zero"}));
}

TEST(StateValidate, PortSecurityDisabledWithSecurityGroups) {
    json doc = example();
    doc["ports"][0]["port_security_enabled"] = false;
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA1, "$.ports[0].security_groups",
                           {"port_security_enabled is false", "security_groups must be empty (has 2)"}));
}

TEST(StateValidate, PortSecurityDisabledWithAddressPairs) {
    json doc = example();
    doc["ports"][1]["port_security_enabled"] = false;
    doc["ports"][1]["security_groups"] = json::array();
    EXPECT_TRUE(only_issue(validate(doc), "port " + kPortA2, "$.ports[1].allowed_address_pairs",
                           {"port_security_enabled is false", "allowed_address_pairs must be empty (has 1)"}));
}

// ---- security group rules ----------------------------------------------------------------

TEST(StateValidate, RulePortRangeMinAboveMax) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["port_range_min"] = 80;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[0].port_range_min",
                           {"port_range_min 80 is greater than port_range_max 22"}));
}

TEST(StateValidate, RulePortOutOfRange) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][1]["port_range_max"] = 65536;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[1].port_range_max",
                           {"port_range_max 65536 is out of range (1..65535)"}));
}

TEST(StateValidate, RulePortZero) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][1]["port_range_min"] = 0;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[1].port_range_min",
                           {"port_range_min 0 is out of range (1..65535)"}));
}

TEST(StateValidate, RuleTcpRangeNeedsBothEnds) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][1]["port_range_max"] = nullptr;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[1].port_range_max",
                           {"port_range_max must be set too"}));
}

TEST(StateValidate, RulePortRangeNeedsProtocol) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["protocol"] = nullptr;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[0].port_range_min",
                           {"a port range needs a protocol"}));
}

TEST(StateValidate, RulePortRangeNotAllowedForGre) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["protocol"] = "gre";
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[0].port_range_min",
                           {"port ranges are only allowed for tcp, udp, sctp", "protocol is 47"}));
}

TEST(StateValidate, RuleIcmpTypeOutOfRange) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][2]["port_range_min"] = 256;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[2].port_range_min",
                           {"ICMP type (port_range_min) 256 is out of range (0..255)"}));
}

TEST(StateValidate, RuleIcmpCodeOutOfRange) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][2]["port_range_max"] = 300;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[2].port_range_max",
                           {"ICMP code (port_range_max) 300 is out of range (0..255)"}));
}

TEST(StateValidate, RuleIcmpCodeNeedsType) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][2]["port_range_min"] = nullptr;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[2].port_range_max",
                           {"ICMP code (port_range_max) 0 needs an ICMP type"}));
}

TEST(StateValidate, RuleEthertypeMismatchesRemotePrefix) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["remote_ip_prefix"] = "2001:db8::/32";
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[0].remote_ip_prefix",
                           {"remote_ip_prefix 2001:db8::/32 is IPv6 but ethertype is IPv4"}));
}

TEST(StateValidate, RuleIcmpv6NeedsIpv6Ethertype) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][2]["protocol"] = "icmpv6";
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[2].protocol",
                           {"protocol 58 is IPv6-only but ethertype is IPv4"}));
}

TEST(StateValidate, RuleRemotePrefixAndGroupExclusive) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["remote_group_id"] = kSgDefault;
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[0].remote_group_id",
                           {"remote_group_id " + kSgDefault, "and remote_ip_prefix 0.0.0.0/0 are mutually exclusive"}));
}

TEST(StateValidate, DuplicateRuleId) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][1]["id"] = "r-def-1";
    EXPECT_TRUE(only_issue(validate(doc), "security_group " + kSgWeb, kRules1 + "[1].id",
                           {"duplicate rule id \"r-def-1\"", "$.security_groups[0].security_group_rules[0].id"}));
}

// ---- routers -------------------------------------------------------------------------------

TEST(StateValidate, RouterRouteNexthopFamilyMismatch) {
    json doc = example();
    doc["routers"][0]["routes"] = json::array({{{"destination", "10.0.0.0/8"}, {"nexthop", "2001:db8::1"}}});
    EXPECT_TRUE(only_issue(validate(doc), "router " + kRouter, "$.routers[0].routes[0].nexthop",
                           {"nexthop 2001:db8::1 is IPv6 but destination 10.0.0.0/8 is IPv4"}));
}

// ---- the "neutrino" settings ----------------------------------------------------------------

TEST(StateValidate, DhcpLeaseDurationIsPositiveOrInfinite) {
    json doc = example();
    for (int64_t ok : {int64_t{1}, int64_t{86400}, int64_t{-1}, int64_t{4294967294}}) {
        doc["neutrino"] = {{"dhcp_lease_duration", ok}};
        EXPECT_EQ(dump(validate(doc)), " (no issues)") << ok;
    }
    for (int64_t bad : {int64_t{0}, int64_t{-2}, int64_t{4294967295}, int64_t{1} << 40}) {
        doc["neutrino"] = {{"dhcp_lease_duration", bad}};
        EXPECT_TRUE(only_issue(validate(doc), "", "$.neutrino.dhcp_lease_duration",
                               {"dhcp_lease_duration " + std::to_string(bad) + " is out of range",
                                "1..4294967294 seconds, or -1 for an infinite lease"}));
    }
}

// ---- many problems at once ----------------------------------------------------------------

TEST(StateValidate, ReportsEveryProblem) {
    json doc = example();
    doc["networks"][0]["mtu"] = 10;
    doc["ports"][0]["mac_address"] = "01:00:5e:00:00:01";
    doc["floatingips"][0]["router_id"] = "no-such-router";
    auto issues = validate(doc);
    EXPECT_EQ(issues.size(), 3u) << dump(issues);
    try {
        load_state_text(doc.dump());
        FAIL() << "no StateError";
    } catch (const StateError& e) {
        EXPECT_EQ(e.issues().size(), 3u);
        EXPECT_NE(std::string(e.what()).find("invalid desired state (3 problems):"), std::string::npos);
    }
}

// parse_state / load_state_*: the example file, and one test per class of
// syntax or type error, each on a copy of the example with one field changed.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "maps/state.hpp"
#include "state_issues.hpp"

using namespace neutrino;
using nlohmann::json;
using namespace neutrino::test;

namespace {

const std::string kExample = NT_EXAMPLES "/neutron-state.json";

json example() {
    static const json doc = [] {
        std::ifstream in(kExample);
        return json::parse(in);
    }();
    return doc;
}

std::vector<StateIssue> parse_issues(const json& doc) {
    try {
        parse_state(doc);
    } catch (const StateError& e) {
        return e.issues();
    }
    return {};
}


const std::string kNet0 = "network 3bb9ca55-d2e5-45eb-b782-e4de1f60014a";
const std::string kSubnet0 = "subnet 6e1e7a4b-7c3c-4f5d-9d2b-0b5a4c3d2e1f";
const std::string kPort0 = "port c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e";
const std::string kSgWeb = "security_group 7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";
const std::string kRouter0 = "router 014e0e10-47fc-469f-9883-3a5130fc79e6";

}  // namespace

// ---- the example -------------------------------------------------------------

TEST(StateExample, LoadsWithZeroIssues) {
    EXPECT_NO_THROW(load_state_file(kExample));
    State s = parse_state(example());
    EXPECT_EQ(dump(validate_state(s)), " (no issues)");
}

TEST(StateExample, ResourceCounts) {
    State s = load_state_file(kExample);
    EXPECT_EQ(s.hosts.size(), 2u);
    EXPECT_EQ(s.networks.size(), 4u);
    EXPECT_EQ(s.subnets.size(), 4u);
    EXPECT_EQ(s.security_groups.size(), 2u);
    EXPECT_EQ(s.ports.size(), 6u);
    EXPECT_EQ(s.routers.size(), 1u);
    EXPECT_EQ(s.floatingips.size(), 1u);
}

TEST(StateExample, NetworkFields) {
    State s = load_state_file(kExample);
    const Network* gre = s.find_network("3bb9ca55-d2e5-45eb-b782-e4de1f60014a");
    ASSERT_TRUE(gre);
    EXPECT_EQ(gre->type, NetworkType::Gre);
    EXPECT_EQ(gre->segmentation_id, 1001u);
    EXPECT_EQ(gre->mtu, 1458u);
    EXPECT_FALSE(gre->physical_network);
    EXPECT_FALSE(gre->external);
    const Network* pub = s.find_network("f27a9d7c-5b55-4a44-9a0e-1f2e3d4c5b6a");
    ASSERT_TRUE(pub);
    EXPECT_EQ(pub->type, NetworkType::Flat);
    EXPECT_EQ(pub->physical_network, "public");
    EXPECT_FALSE(pub->segmentation_id);
    EXPECT_TRUE(pub->external);
    EXPECT_EQ(s.networks[2].segmentation_id, 100u);
    EXPECT_EQ(s.networks[2].physical_network, "physnet1");
}

TEST(StateExample, SubnetAndHostFields) {
    State s = load_state_file(kExample);
    const Subnet* sn = s.find_subnet("9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a");
    ASSERT_TRUE(sn);
    EXPECT_EQ(sn->cidr.str(), "192.168.1.0/24");
    EXPECT_EQ(sn->gateway_ip->str(), "192.168.1.1");
    ASSERT_EQ(sn->host_routes.size(), 1u);
    EXPECT_EQ(sn->host_routes[0].destination.str(), "198.51.100.0/24");
    EXPECT_EQ(sn->allocation_pools[0].end.str(), "192.168.1.200");
    EXPECT_FALSE(s.find_subnet("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")->gateway_ip);
    const Host* h = s.find_host("compute-2");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->tunnel_ip->str(), "192.0.2.12");
    EXPECT_EQ(h->physical_interface_mappings.at("public"), "eth2");
}

TEST(StateExample, PortFields) {
    State s = load_state_file(kExample);
    const Port* p = s.find_port("c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->interface_name, "tapc1eef425-c0");
    EXPECT_EQ(p->mac_address.str(), "fa:16:3e:a1:00:01");
    EXPECT_EQ(p->host_id, "compute-1");
    EXPECT_TRUE(p->is_vm_port());
    ASSERT_EQ(p->fixed_ips.size(), 1u);
    EXPECT_EQ(p->fixed_ips[0].ip_address.str(), "192.168.1.17");
    EXPECT_EQ(p->security_groups.size(), 2u);
    const Port* a2 = s.find_port("d2ff0536-d1b5-4d95-8e4d-2a3b4c5d6e7f");
    ASSERT_EQ(a2->allowed_address_pairs.size(), 1u);
    EXPECT_EQ(a2->allowed_address_pairs[0].ip_address.str(), "192.168.1.100/32");
    EXPECT_EQ(a2->allowed_address_pairs[0].mac_address->str(), "fa:16:3e:a1:00:02");
    const Port* dvr = s.find_port("d1a40252-8b3c-4d5e-9f60-718293a4b5c6");
    EXPECT_FALSE(dvr->is_vm_port());
    EXPECT_FALSE(dvr->port_security_enabled);
    EXPECT_EQ(dvr->host_id, "");
    EXPECT_EQ(dvr->device_id, "014e0e10-47fc-469f-9883-3a5130fc79e6");
}

TEST(StateExample, SecurityGroupRuleFields) {
    State s = load_state_file(kExample);
    const SecurityGroup* web = s.find_security_group("7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d");
    ASSERT_TRUE(web);
    EXPECT_TRUE(web->stateful);
    ASSERT_EQ(web->rules.size(), 3u);
    const SecurityGroupRule& ssh = web->rules[0];
    EXPECT_EQ(ssh.id, "r-web-ssh");
    EXPECT_EQ(ssh.direction, Direction::Ingress);
    EXPECT_EQ(ssh.protocol, 6);
    EXPECT_EQ(ssh.port_range_min, 22u);
    EXPECT_EQ(ssh.port_range_max, 22u);
    EXPECT_EQ(ssh.remote_ip_prefix->str(), "0.0.0.0/0");
    const SecurityGroupRule& ping = web->rules[2];
    EXPECT_EQ(ping.protocol, 1);
    EXPECT_EQ(ping.port_range_min, 8u);
    EXPECT_EQ(ping.port_range_max, 0u);
    const SecurityGroupRule& any = s.security_groups[0].rules[3];
    EXPECT_EQ(any.ethertype, Ethertype::IPv6);
    EXPECT_FALSE(any.protocol);
    EXPECT_EQ(any.remote_group_id, "5f1c9e2a-3b4d-4c5e-8f6a-7b8c9d0e1f2a");
}

TEST(StateExample, RouterAndFloatingIpFields) {
    State s = load_state_file(kExample);
    const Router* r = s.find_router("014e0e10-47fc-469f-9883-3a5130fc79e6");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->distributed);
    ASSERT_TRUE(r->external_gateway_info);
    EXPECT_TRUE(r->external_gateway_info->enable_snat);
    EXPECT_EQ(r->external_gateway_info->external_fixed_ips[0].ip_address.str(), "172.31.208.102");
    const FloatingIp& f = s.floatingips[0];
    EXPECT_EQ(f.floating_ip_address.str(), "172.31.208.110");
    EXPECT_EQ(f.port_id, "c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e");
    EXPECT_EQ(f.fixed_ip_address->str(), "192.168.1.17");
    EXPECT_EQ(f.router_id, "014e0e10-47fc-469f-9883-3a5130fc79e6");
}

// ---- small helpers in state.cpp ------------------------------------------------

TEST(StateHelpers, NetworkTypeNames) {
    EXPECT_STREQ(to_string(NetworkType::Local), "local");
    EXPECT_STREQ(to_string(NetworkType::Flat), "flat");
    EXPECT_STREQ(to_string(NetworkType::Vlan), "vlan");
    EXPECT_STREQ(to_string(NetworkType::Vxlan), "vxlan");
    EXPECT_STREQ(to_string(NetworkType::Gre), "gre");
}

TEST(StateHelpers, DefaultInterfaceNameIsNovaTapName) {
    EXPECT_EQ(default_interface_name("c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e"), "tapc1eef425-c0");
    EXPECT_EQ(default_interface_name("short"), "tapshort");
}

TEST(StateHelpers, IssueStrJoinsResourcePathMessage) {
    EXPECT_EQ((StateIssue{"port p1", "$.ports[0].mac_address", "bad"}).str(), "port p1: $.ports[0].mac_address: bad");
    EXPECT_EQ((StateIssue{"", "$.x", "bad"}).str(), "$.x: bad");
    EXPECT_EQ((StateIssue{"", "", "bad"}).str(), "bad");
}

TEST(StateHelpers, FindReturnsNullForUnknownId) {
    State s = load_state_file(kExample);
    EXPECT_FALSE(s.find_network("nope"));
    EXPECT_FALSE(s.find_port("nope"));
    EXPECT_FALSE(s.find_host("nope"));
    EXPECT_FALSE(s.find_router("nope"));
    EXPECT_FALSE(s.find_security_group("nope"));
    EXPECT_FALSE(s.find_subnet("nope"));
}

// ---- unknown and ignorable fields ---------------------------------------------

TEST(StateParse, RejectsUnknownFieldWithSuggestion) {
    json doc = example();
    doc["ports"][0]["mac_adress"] = doc["ports"][0]["mac_address"];
    doc["ports"][0].erase("mac_address");
    auto issues = parse_issues(doc);
    EXPECT_EQ(issues.size(), 2u) << dump(issues);
    EXPECT_TRUE(has_issue(issues, kPort0, "$.ports[0].mac_adress",
                          {"unknown field \"mac_adress\"", "did you mean \"mac_address\"?"}));
    EXPECT_TRUE(has_issue(issues, kPort0, "$.ports[0].mac_address", {"missing required field \"mac_address\""}));
}

TEST(StateParse, AcceptsNeutronBookkeepingFields) {
    json doc = example();
    doc["networks"][0]["project_id"] = "0123456789abcdef";
    doc["networks"][0]["tenant_id"] = "0123456789abcdef";
    doc["networks"][0]["created_at"] = "2024-01-01T00:00:00Z";
    doc["networks"][0]["revision_number"] = 7;
    doc["networks"][0]["tags"] = json::array({"x"});
    doc["networks"][0]["availability_zones"] = json::array({"nova"});
    doc["networks"][0]["port_security_enabled"] = true;
    doc["subnets"][0]["ipv6_ra_mode"] = nullptr;
    doc["subnets"][0]["subnetpool_id"] = nullptr;
    doc["security_groups"][1]["security_group_rules"][0]["security_group_id"] = "7a8b9c0d";
    doc["security_groups"][1]["security_group_rules"][0]["remote_address_group_id"] = nullptr;
    doc["ports"][0]["binding:vif_type"] = "ovs";
    doc["ports"][0]["binding:vnic_type"] = "normal";
    doc["ports"][0]["binding:profile"] = json::object();
    doc["ports"][0]["status"] = "ACTIVE";
    doc["routers"][0]["ha"] = false;
    doc["routers"][0]["external_gateway_info"]["qos_policy_id"] = nullptr;
    doc["floatingips"][0]["port_details"] = json::object();
    doc["floatingips"][0]["port_forwardings"] = json::array();
    EXPECT_EQ(dump(parse_issues(doc)), " (no issues)");
}

TEST(StateParse, IgnorableFieldOnWrongKindIsUnknown) {
    json doc = example();
    doc["ports"][0]["fixed_ip_address"] = "192.168.1.17";  // a floating IP field
    EXPECT_TRUE(only_issue(parse_issues(doc), kPort0, "$.ports[0].fixed_ip_address",
                           {"unknown field \"fixed_ip_address\" in a port"}));
}

TEST(StateParse, EmptyOnlyFieldRejectedWhenSet) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["remote_address_group_id"] = "ag-1";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSgWeb,
                           "$.security_groups[1].security_group_rules[0].remote_address_group_id",
                           {"\"remote_address_group_id\" is not supported", "\"ag-1\""}));
}

TEST(StateParse, RejectsUnknownTopLevelKey) {
    json doc = example();
    doc["network"] = json::array();
    EXPECT_TRUE(only_issue(parse_issues(doc), "", "$.network", {"unknown top-level key \"network\"", "networks"}));
}

// ---- wrong shapes and types ---------------------------------------------------

TEST(StateParse, TopLevelMustBeObject) {
    EXPECT_TRUE(only_issue(parse_issues(json::array()), "", "$", {"expected a JSON object", "array"}));
}

TEST(StateParse, ResourceListMustBeArray) {
    json doc = example();
    doc["networks"] = json::object();
    EXPECT_TRUE(has_issue(parse_issues(doc), "", "$.networks", {"expected an array", "object"}));
}

TEST(StateParse, ResourceMustBeObject) {
    json doc = example();
    doc["routers"][0] = "router-a";
    EXPECT_TRUE(only_issue(parse_issues(doc), "router #0", "$.routers[0]",
                           {"expected a router object", "string \"router-a\""}));
}

TEST(StateParse, WrongTypeForInteger) {
    json doc = example();
    doc["networks"][0]["provider:segmentation_id"] = "1001";
    EXPECT_TRUE(only_issue(parse_issues(doc), kNet0, "$.networks[0].provider:segmentation_id",
                           {"expected an integer", "string \"1001\""}));
}

TEST(StateParse, NegativeOrFractionalIntegerRejected) {
    json doc = example();
    doc["networks"][0]["mtu"] = -1;
    doc["networks"][1]["mtu"] = 1450.5;
    auto issues = parse_issues(doc);
    EXPECT_EQ(issues.size(), 2u) << dump(issues);
    EXPECT_TRUE(has_issue(issues, kNet0, "$.networks[0].mtu", {"expected an integer from 0", "-1"}));
    EXPECT_TRUE(has_issue(issues, "network 8a2c1f40-7f5e-4b7e-9c7d-2d1e7e0b9c11", "$.networks[1].mtu",
                          {"expected an integer", "1450.5"}));
}

TEST(StateParse, WrongTypeForBool) {
    json doc = example();
    doc["ports"][0]["admin_state_up"] = "yes";
    EXPECT_TRUE(only_issue(parse_issues(doc), kPort0, "$.ports[0].admin_state_up",
                           {"expected true or false", "\"yes\""}));
}

TEST(StateParse, WrongTypeForString) {
    json doc = example();
    doc["ports"][0]["security_groups"][1] = 7;
    EXPECT_TRUE(only_issue(parse_issues(doc), kPort0, "$.ports[0].security_groups[1]",
                           {"expected a string", "number 7"}));
}

TEST(StateParse, WrongTypeForArray) {
    json doc = example();
    doc["subnets"][0]["dns_nameservers"] = "192.0.2.53";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSubnet0, "$.subnets[0].dns_nameservers", {"expected an array"}));
}

TEST(StateParse, HostMappingValueMustBeString) {
    json doc = example();
    doc["hosts"][1]["physical_interface_mappings"]["physnet1"] = json::array({"eth1"});
    EXPECT_TRUE(only_issue(parse_issues(doc), "host compute-2", "$.hosts[1].physical_interface_mappings.physnet1",
                           {"expected a string"}));
}

// ---- required fields and enums ------------------------------------------------

TEST(StateParse, MissingRequiredField) {
    json doc = example();
    doc["subnets"][0].erase("network_id");
    EXPECT_TRUE(only_issue(parse_issues(doc), kSubnet0, "$.subnets[0].network_id",
                           {"missing required field \"network_id\""}));
}

TEST(StateParse, MissingIdNamesResourceByIndex) {
    json doc = example();
    doc["networks"][1].erase("id");
    EXPECT_TRUE(only_issue(parse_issues(doc), "network #1", "$.networks[1].id", {"missing required field \"id\""}));
}

TEST(StateParse, EmptyIdRejected) {
    json doc = example();
    doc["floatingips"][0]["id"] = "";
    EXPECT_TRUE(only_issue(parse_issues(doc), "floatingip #0", "$.floatingips[0].id", {"must not be empty"}));
}

TEST(StateParse, BadNetworkType) {
    json doc = example();
    doc["networks"][0]["provider:network_type"] = "geneve";
    EXPECT_TRUE(only_issue(parse_issues(doc), kNet0, "$.networks[0].provider:network_type",
                           {"\"geneve\"", "local, flat, vlan, vxlan, gre"}));
}

TEST(StateParse, BadRuleDirection) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][1]["direction"] = "in";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSgWeb, "$.security_groups[1].security_group_rules[1].direction",
                           {"\"in\"", "ingress, egress"}));
}

TEST(StateParse, EthertypeIsCaseSensitive) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][1]["ethertype"] = "ipv4";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSgWeb, "$.security_groups[1].security_group_rules[1].ethertype",
                           {"\"ipv4\"", "IPv4, IPv6"}));
}

TEST(StateParse, BadIpVersion) {
    json doc = example();
    doc["subnets"][0]["ip_version"] = 5;
    EXPECT_TRUE(only_issue(parse_issues(doc), kSubnet0, "$.subnets[0].ip_version", {"expected 4 or 6", "5"}));
}

// ---- malformed addresses ------------------------------------------------------

TEST(StateParse, MalformedIp) {
    json doc = example();
    doc["ports"][0]["fixed_ips"][0]["ip_address"] = "192.168.1.300";
    EXPECT_TRUE(only_issue(parse_issues(doc), kPort0, "$.ports[0].fixed_ips[0].ip_address",
                           {"\"192.168.1.300\" is not a valid IP address"}));
}

TEST(StateParse, MalformedMac) {
    json doc = example();
    doc["ports"][0]["mac_address"] = "fa:16:3e:zz:00:01";
    EXPECT_TRUE(only_issue(parse_issues(doc), kPort0, "$.ports[0].mac_address",
                           {"\"fa:16:3e:zz:00:01\" is not a valid MAC address", "six two-digit hex groups"}));
}

TEST(StateParse, MalformedCidr) {
    json doc = example();
    doc["subnets"][0]["cidr"] = "192.168.1.0/33";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSubnet0, "$.subnets[0].cidr",
                           {"\"192.168.1.0/33\" is not a valid CIDR"}));
}

TEST(StateParse, SubnetCidrWithHostBits) {
    json doc = example();
    doc["subnets"][0]["cidr"] = "192.168.1.5/24";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSubnet0, "$.subnets[0].cidr",
                           {"\"192.168.1.5/24\" has host bits set", "192.168.1.0/24"}));
}

TEST(StateParse, RemoteIpPrefixWithHostBits) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["remote_ip_prefix"] = "10.0.0.1/8";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSgWeb,
                           "$.security_groups[1].security_group_rules[0].remote_ip_prefix",
                           {"\"10.0.0.1/8\" has host bits set", "10.0.0.0/8"}));
}

TEST(StateParse, RouterRouteMalformedNexthop) {
    json doc = example();
    doc["routers"][0]["routes"] = json::array({{{"destination", "10.0.0.0/8"}, {"nexthop", "10.0.0"}}});
    EXPECT_TRUE(only_issue(parse_issues(doc), kRouter0, "$.routers[0].routes[0].nexthop",
                           {"\"10.0.0\" is not a valid IP address"}));
}

// ---- protocols ------------------------------------------------------------------

TEST(StateParse, ProtocolNamesNumbersAndAny) {
    json doc = example();
    auto& rules = doc["security_groups"][1]["security_group_rules"];
    rules[0]["protocol"] = "6";
    rules[1]["protocol"] = 17;
    rules[2]["protocol"] = "any";
    rules[2]["port_range_min"] = nullptr;
    rules[2]["port_range_max"] = nullptr;
    State s = parse_state(doc);
    EXPECT_EQ(s.security_groups[1].rules[0].protocol, 6);
    EXPECT_EQ(s.security_groups[1].rules[1].protocol, 17);
    EXPECT_FALSE(s.security_groups[1].rules[2].protocol);
}

TEST(StateParse, ProtocolNameIsCaseInsensitive) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["protocol"] = "TCP";
    EXPECT_EQ(parse_state(doc).security_groups[1].rules[0].protocol, 6);
}

TEST(StateParse, IcmpInIpv6RuleMeansIcmpv6) {
    json doc = example();
    auto& rule = doc["security_groups"][1]["security_group_rules"][2];
    rule["ethertype"] = "IPv6";
    rule["remote_ip_prefix"] = "::/0";
    EXPECT_EQ(parse_state(doc).security_groups[1].rules[2].protocol, 58);
}

TEST(StateParse, UnknownProtocolName) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["protocol"] = "tcpp";
    EXPECT_TRUE(only_issue(parse_issues(doc), kSgWeb, "$.security_groups[1].security_group_rules[0].protocol",
                           {"invalid protocol string \"tcpp\"", "0..255"}));
}

TEST(StateParse, ProtocolNumberOutOfRange) {
    json doc = example();
    doc["security_groups"][1]["security_group_rules"][0]["protocol"] = 256;
    EXPECT_TRUE(only_issue(parse_issues(doc), kSgWeb, "$.security_groups[1].security_group_rules[0].protocol",
                           {"invalid protocol number 256"}));
}

// ---- ports ----------------------------------------------------------------------

TEST(StateParse, AllowedAddressPairTakesIpOrNetwork) {
    json doc = example();
    auto& pairs = doc["ports"][1]["allowed_address_pairs"];
    pairs.push_back({{"ip_address", "10.9.0.0/16"}});
    State s = parse_state(doc);
    const auto& p = s.ports[1].allowed_address_pairs;
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].ip_address.str(), "192.168.1.100/32");
    EXPECT_EQ(p[1].ip_address.str(), "10.9.0.0/16");
    EXPECT_FALSE(p[1].mac_address);
}

TEST(StateParse, AllowedAddressPairNetworkWithHostBits) {
    json doc = example();
    doc["ports"][1]["allowed_address_pairs"][0]["ip_address"] = "192.168.1.100/24";
    EXPECT_TRUE(only_issue(parse_issues(doc), "port d2ff0536-d1b5-4d95-8e4d-2a3b4c5d6e7f",
                           "$.ports[1].allowed_address_pairs[0].ip_address", {"has host bits set"}));
}

TEST(StateParse, InterfaceNameOverridesDefault) {
    json doc = example();
    doc["ports"][1]["interface_name"] = "vm-a2";
    State s = parse_state(doc);
    EXPECT_EQ(s.ports[0].interface_name, "tapc1eef425-c0");
    EXPECT_EQ(s.ports[1].interface_name, "vm-a2");
}

// ---- the "neutrino" settings (what neutron.conf holds) -------------------------

TEST(StateParse, SettingsDefaultToNeutronsWithoutTheObject) {
    EXPECT_FALSE(example().contains("neutrino"));
    EXPECT_EQ(parse_state(example()).settings.dhcp_lease_duration, 86400);
}

TEST(StateParse, DhcpLeaseDurationSecondsOrInfinite) {
    json doc = example();
    doc["neutrino"] = {{"dhcp_lease_duration", 600}};
    EXPECT_EQ(parse_state(doc).settings.dhcp_lease_duration, 600);
    doc["neutrino"]["dhcp_lease_duration"] = -1;
    EXPECT_EQ(parse_state(doc).settings.dhcp_lease_duration, kInfiniteLease);
    doc["neutrino"] = json::object();
    EXPECT_EQ(parse_state(doc).settings.dhcp_lease_duration, 86400);
}

TEST(StateParse, DhcpLeaseDurationMustBeAnInteger) {
    json doc = example();
    for (const json& bad : {json("600"), json(1.5), json(nullptr), json(true), json(18446744073709551615u)}) {
        doc["neutrino"] = {{"dhcp_lease_duration", bad}};
        EXPECT_TRUE(only_issue(parse_issues(doc), "", "$.neutrino.dhcp_lease_duration",
                               {"expected an integer number of seconds", "-1 for an infinite lease"}))
            << bad.dump();
    }
}

TEST(StateParse, SettingsRejectUnknownFieldsAndOtherShapes) {
    json doc = example();
    doc["neutrino"] = {{"dhcp_lease_duraton", 600}};
    EXPECT_TRUE(only_issue(parse_issues(doc), "", "$.neutrino.dhcp_lease_duraton",
                           {"unknown field", "did you mean \"dhcp_lease_duration\""}));
    doc["neutrino"] = json::array();
    EXPECT_TRUE(only_issue(parse_issues(doc), "", "$.neutrino", {"expected a \"neutrino\" settings object", "array"}));
}

// ---- collecting problems, load_state_text / load_state_file -----------------

TEST(StateError, CollectsEveryProblem) {
    json doc = example();
    doc["networks"][0]["mtu"] = "big";
    doc["ports"][0]["mac_address"] = "nope";
    doc["floatingips"][0]["floating_ip_address"] = "172.31.208";
    try {
        parse_state(doc);
        FAIL() << "no StateError";
    } catch (const StateError& e) {
        ASSERT_EQ(e.issues().size(), 3u) << dump(e.issues());
        std::string what = e.what();
        EXPECT_EQ(what.rfind("invalid desired state (3 problems):\n", 0), 0u) << what;
        for (const auto& i : e.issues()) EXPECT_NE(what.find("\n" + i.str()), std::string::npos) << i.str();
    }
}

TEST(StateError, SingleProblemIsSingular) {
    StateError e({{"", "", "x"}});
    EXPECT_STREQ(e.what(), "invalid desired state (1 problem):\nx");
}

TEST(LoadStateText, MalformedJsonReportsPosition) {
    try {
        load_state_text("{\n  \"hosts\": [,]\n}", "state.json");
        FAIL() << "no StateError";
    } catch (const StateError& e) {
        ASSERT_EQ(e.issues().size(), 1u);
        const std::string& m = e.issues()[0].message;
        EXPECT_NE(m.find("state.json: invalid JSON at byte 15 (line 2, column 13)"), std::string::npos) << m;
        EXPECT_NE(m.find("syntax error"), std::string::npos) << m;
    }
}

TEST(LoadStateText, RunsValidation) {
    json doc = example();
    doc["ports"][0]["network_id"] = "nope";
    EXPECT_THROW(load_state_text(doc.dump()), StateError);
}

// ---- found by the fuzzer (tests/fuzz/): each input is in its corpus too ------

namespace {
// The problems load_state_text reports about text (none when it accepts it).
std::vector<StateIssue> load_issues(const std::string& text) {
    try {
        load_state_text(text, "state.json");
    } catch (const StateError& e) {
        return e.issues();
    }
    return {};
}
}  // namespace

TEST(LoadStateText, NumberBeyondADoubleIsAStateError) {
    // nlohmann::json reports it as out_of_range.406, not as a parse_error.
    EXPECT_TRUE(only_issue(load_issues("{\"networks\": [{\"mtu\": 1e400}]}"), "", "",
                           {"state.json: invalid JSON: number overflow parsing '1e400'"}));
}

TEST(LoadStateText, DeeplyNestedValueIsAStateError) {
    // The message quotes the value; json::dump() recursed once per level and
    // overflowed the stack.
    const size_t depth = 1000000;
    EXPECT_TRUE(only_issue(load_issues("{\"hosts\": " + std::string(depth, '[') + std::string(depth, ']') + "}"),
                           "host #0", "$.hosts[0]",
                           {"expected a host object, got array " + std::string(57, '[') + "..."}));
}

TEST(LoadStateText, InvalidUtf8IsQuotedAsHex) {
    // nlohmann's parse error quotes the raw bytes it read, here not UTF-8.
    auto issues = load_issues("{\"hosts\": [{\"name\": \"\xff\xfe\"}]}");
    EXPECT_TRUE(only_issue(issues, "", "", {"ill-formed UTF-8 byte; last read: '\"\\xFF'"}));
    EXPECT_NO_THROW(json(issues.at(0).message).dump());  // valid UTF-8
}

TEST(StateParse, QuotedValueIsCutBetweenCharacters) {
    // Cutting the quoted value at 57 bytes split a two-byte UTF-8 character.
    std::string e_acute = "\xc3\xa9", forty;
    for (int i = 0; i < 40; ++i) forty += e_acute;
    json doc = example();
    doc["hosts"][0]["name"] = json::array({forty});
    auto issues = parse_issues(doc);
    EXPECT_TRUE(only_issue(issues, "host #0", "$.hosts[0].name",
                           {"expected a string, got array [\"" + forty.substr(0, 54) + "..."}));
    EXPECT_NO_THROW(json(issues.at(0).message).dump());  // valid UTF-8
}

TEST(LoadStateFile, MissingFileIsAStateError) {
    try {
        load_state_file(NT_FIXTURES "/does-not-exist.json");
        FAIL() << "no StateError";
    } catch (const StateError& e) {
        EXPECT_NE(std::string(e.what()).find("does-not-exist.json"), std::string::npos) << e.what();
    }
}

// The DHCP compile step: what each port is offered, byte for byte, and how
// the server address, the options and their limits are chosen.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "maps/compile.hpp"
#include "maps/compile_dhcp.hpp"
#include "maps/state.hpp"

using namespace neutrino;

namespace {

using Bytes = std::vector<uint8_t>;

State fixture() { return load_state_file(std::string(NT_FIXTURES) + "/dhcp-packet.json"); }

const Port& port_named(const State& s, const std::string& name) {
    for (const auto& p : s.ports)
        if (p.name == name) return p;
    throw std::out_of_range("no port " + name);
}

Port& port_named(State& s, const std::string& name) {
    return const_cast<Port&>(port_named(static_cast<const State&>(s), name));
}

Subnet& subnet_named(State& s, const std::string& name) {
    for (auto& sn : s.subnets)
        if (sn.name == name) return sn;
    throw std::out_of_range("no subnet " + name);
}

nt_dhcp_config offer(const State& s, const std::string& port) {
    auto c = dhcp_config_for(s, port_named(s, port));
    if (!c) throw std::runtime_error("no DHCP for " + port);
    return *c;
}

__be32 ip(const char* s) { return htonl(IpAddr::parse(s)->v4_host_order()); }

Bytes opts_of(const nt_dhcp_config& c) { return Bytes(c.opts, c.opts + NT_DHCP_OPTS_LEN); }

// The expected options: the given bytes, then zeros (PAD) to the end.
Bytes padded(Bytes b) {
    b.resize(NT_DHCP_OPTS_LEN, 0);
    return b;
}

Bytes str_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// The fixed prefix every offer starts with (abi_dhcp.h): type, server,
// lease 86400, T1 43200, T2 75600.
Bytes prefix(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return {53, 1, 0, 54, 4, a, b, c, d, 51, 4, 0x00, 0x01, 0x51, 0x80,
            58, 4, 0x00, 0x00, 0xa8, 0xc0, 59, 4, 0x00, 0x01, 0x27, 0x50};
}

}  // namespace

TEST(CompileDhcp, RedPortIsOfferedItsAddressAndEveryOptionOfItsSubnet) {
    State s = fixture();
    nt_dhcp_config c = offer(s, "red1");
    EXPECT_EQ(c.yiaddr, ip("10.0.0.11"));
    EXPECT_EQ(c.netmask, ip("255.255.255.0"));
    EXPECT_EQ(c.router, ip("10.0.0.1"));
    EXPECT_EQ(c.server_id, ip("10.0.0.253"))
        << "no DHCP port: the highest free address (.255 broadcast, .254 a host route's next hop)";
    EXPECT_EQ(Bytes(c.server_mac, c.server_mac + 6), Bytes({0x02, 0x4e, 0x54, 0xc1, 0x05, 0x50}))
        << "the network's MAC: 02:4e:54 + FNV-1a of its id";
    EXPECT_EQ(c.flags, uint8_t{NT_DHCP_F_ARP});
    EXPECT_EQ(c.lease_secs, 86400u);
    EXPECT_EQ(c.mtu, 1450u);
    EXPECT_EQ(c.prefix_len, 24u);

    Bytes want = padded(cat({
        prefix(10, 0, 0, 253),
        {1, 4, 255, 255, 255, 0},
        {3, 4, 10, 0, 0, 1},
        {28, 4, 10, 0, 0, 255},
        {26, 2, 0x05, 0xaa},
        // 192.168.100.0/24 via 10.0.0.254, then the default route (RFC 3442:
        // a client using 121 ignores the router option)
        {121, 13, 24, 192, 168, 100, 10, 0, 0, 254, 0, 10, 0, 0, 1},
        {6, 8, 10, 0, 0, 53, 1, 1, 1, 1},
        cat({{12, 4}, str_bytes("red1")}),
        cat({{15, 11}, str_bytes("example.org")}),
        {255},
    }));
    EXPECT_EQ(opts_of(c), want);
    EXPECT_EQ(c.opts_len, 27 + 6 + 6 + 6 + 4 + 15 + 10 + 6 + 13 + 1);
}

TEST(CompileDhcp, HostnameWithoutDomainAndNoDnsName) {
    State s = fixture();
    auto red2 = decode_dhcp_options(offer(s, "red2"));
    bool host = false, domain = false;
    for (const auto& o : red2) {
        host |= o.code == 12 && o.value == "red2";
        domain |= o.code == 15;
    }
    EXPECT_TRUE(host);
    EXPECT_FALSE(domain) << "dns_name red2 has no domain part";
    for (const auto& o : decode_dhcp_options(offer(s, "red-nosec"))) EXPECT_NE(o.code, 12) << "no dns_name, no hostname";
}

TEST(CompileDhcp, NeutronDhcpPortIsTheServerAndAnsweredInArp) {
    State s = fixture();
    nt_dhcp_config c = offer(s, "blue1");
    EXPECT_EQ(c.server_id, ip("10.0.0.2"));
    EXPECT_EQ(Bytes(c.server_mac, c.server_mac + 6), Bytes({0xfa, 0x16, 0x3e, 0x0d, 0x02, 0xfd}));
    EXPECT_EQ(c.flags, uint8_t{NT_DHCP_F_ARP});
    EXPECT_EQ(c.router, ip("10.0.0.1"));
    EXPECT_EQ(c.mtu, 1500u);
    Bytes want = padded(cat({
        prefix(10, 0, 0, 2),
        {1, 4, 255, 255, 255, 0},
        {3, 4, 10, 0, 0, 1},
        {28, 4, 10, 0, 0, 255},
        {26, 2, 0x05, 0xdc},
        {255},
    }));
    EXPECT_EQ(opts_of(c), want) << "no routes, no DNS servers, no dns_name: none of those options";
}

TEST(CompileDhcp, WithoutGatewayTheHighestUnusedAddressOutsideThePoolsServes) {
    State s = fixture();
    nt_dhcp_config c = offer(s, "nogw1");
    EXPECT_EQ(c.server_id, ip("172.16.5.14")) << "172.16.5.0/28: .15 is the broadcast address";
    EXPECT_EQ(c.router, 0u);
    EXPECT_EQ(c.flags, uint8_t{NT_DHCP_F_ARP});
    EXPECT_EQ(c.server_mac[0], 0x02) << "locally administered network MAC";
    EXPECT_EQ(c.server_mac[1], 0x4e);
    EXPECT_EQ(c.server_mac[2], 0x54);
    for (const auto& o : decode_dhcp_options(c)) EXPECT_NE(o.code, 3) << "no gateway, no router option";

    // A port on .14 moves the server down.
    State s2 = s;
    port_named(s2, "nogw1").fixed_ips[0].ip_address = *IpAddr::parse("172.16.5.14");
    EXPECT_EQ(offer(s2, "nogw1").server_id, ip("172.16.5.13"));
    // Pools covering everything: the highest unused address all the same.
    subnet_named(s2, "nogw-v4").allocation_pools = {{*IpAddr::parse("172.16.5.1"), *IpAddr::parse("172.16.5.14")}};
    EXPECT_EQ(offer(s2, "nogw1").server_id, ip("172.16.5.13"));
}

TEST(CompileDhcp, TheServerAddressIsOneNothingElseClaims) {
    State s = fixture();
    Port& red2 = port_named(s, "red2");
    red2.allowed_address_pairs.push_back({*Cidr::parse("10.0.0.253/32"), std::nullopt});
    EXPECT_EQ(offer(s, "red1").server_id, ip("10.0.0.252")) << "an allowed address pair";
    red2.allowed_address_pairs.push_back({*Cidr::parse("10.0.0.248/29", true), std::nullopt});
    EXPECT_EQ(offer(s, "red1").server_id, ip("10.0.0.247")) << "a VIP range";
    subnet_named(s, "red-v4").gateway_ip = *IpAddr::parse("10.0.0.247");
    EXPECT_EQ(offer(s, "red1").server_id, ip("10.0.0.246")) << "the gateway";
    subnet_named(s, "red-v4").dns_nameservers.push_back(*IpAddr::parse("10.0.0.246"));
    EXPECT_EQ(offer(s, "red1").server_id, ip("10.0.0.245")) << "a DNS server";
    port_named(s, "red1").fixed_ips[0].ip_address = *IpAddr::parse("10.0.0.245");
    EXPECT_EQ(offer(s, "red1").server_id, ip("10.0.0.244")) << "a fixed IP";
}

TEST(CompileDhcp, NetworkMacsDifferBetweenNetworks) {
    State s = fixture();
    auto a = offer(s, "red1"), b = offer(s, "nogw1");
    EXPECT_NE(Bytes(a.server_mac, a.server_mac + 6), Bytes(b.server_mac, b.server_mac + 6));
}

TEST(CompileDhcp, DhcpDisabledMeansNoEntry) {
    State s = fixture();
    EXPECT_FALSE(dhcp_config_for(s, port_named(s, "plain1")));
    EXPECT_FALSE(dhcp_address_of(s, port_named(s, "plain1")));
    MapEntries e;
    compile_port_dhcp(s, port_named(s, "plain1"), 7, e);
    EXPECT_TRUE(e.dhcp.empty());
    compile_port_dhcp(s, port_named(s, "red1"), 7, e);
    ASSERT_EQ(e.dhcp.size(), 1u);
    EXPECT_EQ(e.dhcp.begin()->first, 7u);
}

TEST(CompileDhcp, CompileWritesAnEntryPerLocalPortWithDhcp) {
    State s = fixture();
    CompileInput in;
    in.host = "h1";
    uint32_t ifindex = 10;
    for (const auto& p : s.ports)
        if (p.host_id == "h1") in.ifindex_by_name[p.interface_name] = ifindex++;
    CompileResult r = compile(s, in);
    std::set<std::string> with;
    for (const auto& [tag, c] : r.entries.dhcp)
        for (const auto& [id, t] : r.port_tags)
            if (t == tag) with.insert(s.find_port(id)->name);
    EXPECT_EQ(with, (std::set<std::string>{"red1", "red2", "red-nosec", "blue1", "nogw1"})) << "not plain1, plain2";
    // Same input, same entries.
    EXPECT_TRUE(compile(s, in).entries == r.entries);
}

TEST(CompileDhcp, TheFirstFixedIpv4OnADhcpSubnetIsOffered) {
    State s = fixture();
    Port& p = port_named(s, "red1");
    p.fixed_ips.insert(p.fixed_ips.begin(), FixedIp{"d1000000-0000-4000-8000-0000000000c1", *IpAddr::parse("10.0.0.77")});
    EXPECT_EQ(offer(s, "red1").yiaddr, ip("10.0.0.11")) << "10.0.0.77 is on a subnet without DHCP";
    EXPECT_EQ(dhcp_address_of(s, p), IpAddr::parse("10.0.0.11"));
}

TEST(CompileDhcp, LeaseIsNeutronsDefaultUnlessSet) {
    State s = fixture();
    nt_dhcp_config c = offer(s, "red1");
    EXPECT_EQ(c.lease_secs, 86400u);
    Bytes lease(c.opts + NT_DHCP_OFF_LEASE, c.opts + NT_DHCP_OFF_STATIC);
    EXPECT_EQ(lease, Bytes({51, 4, 0, 1, 0x51, 0x80, 58, 4, 0, 0, 0xa8, 0xc0, 59, 4, 0, 1, 0x27, 0x50}))
        << "86400 s, T1 43200 s, T2 75600 s";
}

TEST(CompileDhcp, LeaseFromTheStateSettings) {
    // From the file through parse and validate, as `apply` reads it.
    std::ifstream in(std::string(NT_FIXTURES) + "/dhcp-packet.json");
    nlohmann::json doc = nlohmann::json::parse(in);
    doc["neutrino"] = {{"dhcp_lease_duration", 20}};
    State s = load_state_text(doc.dump());
    nt_dhcp_config c = offer(s, "red1");
    EXPECT_EQ(c.lease_secs, 20u);
    Bytes lease(c.opts + NT_DHCP_OFF_LEASE, c.opts + NT_DHCP_OFF_STATIC);
    EXPECT_EQ(lease, Bytes({51, 4, 0, 0, 0, 20, 58, 4, 0, 0, 0, 10, 59, 4, 0, 0, 0, 17}));

    doc["neutrino"]["dhcp_lease_duration"] = -1;
    c = offer(load_state_text(doc.dump()), "red1");
    EXPECT_EQ(c.lease_secs, NT_DHCP_LEASE_INFINITE);
    lease.assign(c.opts + NT_DHCP_OFF_LEASE, c.opts + NT_DHCP_OFF_STATIC);
    EXPECT_EQ(lease, Bytes({51, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
        << "an infinite lease is never renewed: T1 and T2 are PAD";
}

TEST(CompileDhcp, LeaseSecondsAtTheLimits) {
    EXPECT_EQ(dhcp_lease_seconds(Settings{}), 86400u);
    EXPECT_EQ(dhcp_lease_seconds(Settings{1}), 1u);
    EXPECT_EQ(dhcp_lease_seconds(Settings{kMaxDhcpLeaseDuration}), NT_DHCP_LEASE_INFINITE - 1)
        << "the longest finite lease is not taken for infinite";
    EXPECT_EQ(dhcp_lease_seconds(Settings{kInfiniteLease}), NT_DHCP_LEASE_INFINITE);
    State s = fixture();
    s.settings.dhcp_lease_duration = kMaxDhcpLeaseDuration;
    nt_dhcp_config c = offer(s, "red1");
    Bytes t1t2(c.opts + NT_DHCP_OFF_LEASE + 6, c.opts + NT_DHCP_OFF_STATIC);
    EXPECT_EQ(t1t2, Bytes({58, 4, 0x7f, 0xff, 0xff, 0xff, 59, 4, 0xdf, 0xff, 0xff, 0xfe}))
        << "T1 = lease/2, T2 = 7/8 of it without overflow";
}

TEST(CompileDhcp, DefaultHostRouteWithoutGatewayBecomesTheRouter) {
    State s = fixture();
    Subnet& sn = subnet_named(s, "red-v4");
    sn.gateway_ip.reset();
    sn.host_routes = {{*Cidr::parse("0.0.0.0/0"), *IpAddr::parse("10.0.0.254")}};
    nt_dhcp_config c = offer(s, "red1");
    EXPECT_EQ(c.router, ip("10.0.0.254"));
    for (const auto& o : decode_dhcp_options(c)) EXPECT_NE(o.code, 121) << "only a default route: no option 121";
}

TEST(CompileDhcp, OtherSubnetsOfTheNetworkAreOnLinkRoutes) {
    State s = fixture();
    Subnet extra = subnet_named(s, "red-v4");
    extra.id = "d1000000-0000-4000-8000-0000000000a9";
    extra.name = "red-extra";
    extra.cidr = *Cidr::parse("10.9.0.0/16");
    extra.gateway_ip.reset();
    extra.allocation_pools.clear();
    s.subnets.push_back(extra);
    std::string routes;
    for (const auto& o : decode_dhcp_options(offer(s, "red1")))
        if (o.code == 121) routes = o.value;
    EXPECT_EQ(routes, "10.9.0.0/16 on-link, 192.168.100.0/24 via 10.0.0.254, 0.0.0.0/0 via 10.0.0.1");
}

TEST(CompileDhcp, OptionsNeverOverflowTheFixedArea) {
    State s = fixture();
    Subnet& sn = subnet_named(s, "red-v4");
    for (int i = 0; i < 70; i++) sn.dns_nameservers.push_back(IpAddr::v4(0x08080000u + static_cast<uint32_t>(i)));
    for (int i = 0; i < 40; i++)
        sn.host_routes.push_back({*Cidr::parse("172." + std::to_string(16 + i) + ".0.0/16"), *IpAddr::parse("10.0.0.254")});
    port_named(s, "red1").dns_name = std::string(60, 'h') + "." + std::string(200, 'd');
    nt_dhcp_config c = offer(s, "red1");
    ASSERT_LE(c.opts_len, NT_DHCP_OPTS_LEN);
    EXPECT_EQ(c.opts[c.opts_len - 1], NT_DHCP_OPT_END);
    std::map<int, std::string> got;
    for (const auto& o : decode_dhcp_options(c)) got[o.code] = o.value;
    EXPECT_EQ(got.count(121), 0u) << "41 routes need 289 bytes: over 255, so none (never a partial table)";
    ASSERT_EQ(got.count(6), 1u) << "as many DNS servers as fit";
    EXPECT_EQ(got.at(6).rfind("10.0.0.53, 1.1.1.1, 8.8.0.0, 8.8.0.1", 0), 0u);
    EXPECT_EQ(std::count(got.at(6).begin(), got.at(6).end(), ','), 62) << "63 of 72 servers fit (252 bytes)";
    EXPECT_TRUE(got.count(1) && got.count(3) && got.count(26)) << "the essential options always fit";
}

TEST(CompileDhcp, FewRoutesFitAndManyDnsServersAreCut) {
    State s = fixture();
    Subnet& sn = subnet_named(s, "red-v4");
    for (int i = 0; i < 60; i++) sn.dns_nameservers.push_back(IpAddr::v4(0x08080000u + static_cast<uint32_t>(i)));
    nt_dhcp_config c = offer(s, "red1");
    std::map<int, std::string> got;
    for (const auto& o : decode_dhcp_options(c)) got[o.code] = o.value;
    EXPECT_EQ(got.at(121), "192.168.100.0/24 via 10.0.0.254, 0.0.0.0/0 via 10.0.0.1") << "routes go before DNS";
    EXPECT_LE(c.opts_len, NT_DHCP_OPTS_LEN);
}

TEST(CompileDhcp, DecodedOptionsForPeople) {
    State s = fixture();
    std::vector<std::string> got;
    for (const auto& o : decode_dhcp_options(offer(s, "red1")))
        got.push_back(std::to_string(o.code) + " " + o.name + " = " + o.value);
    EXPECT_EQ(got, (std::vector<std::string>{
                       "53 message-type = OFFER | ACK | NAK",
                       "54 server-id = 10.0.0.253",
                       "51 lease-time = 86400 s",
                       "58 renewal-time = 43200 s",
                       "59 rebinding-time = 75600 s",
                       "1 subnet-mask = 255.255.255.0",
                       "3 router = 10.0.0.1",
                       "28 broadcast-address = 10.0.0.255",
                       "26 interface-mtu = 1450",
                       "121 classless-static-routes = 192.168.100.0/24 via 10.0.0.254, 0.0.0.0/0 via 10.0.0.1",
                       "6 dns-servers = 10.0.0.53, 1.1.1.1",
                       "12 hostname = red1",
                       "15 domain-name = example.org",
                   }));
}

TEST(CompileDhcp, CounterNames) {
    EXPECT_STREQ(dhcp_counter_name(NT_DHCP_DISCOVER), "DISCOVER");
    EXPECT_STREQ(dhcp_counter_name(NT_DHCP_NAK), "NAK");
    EXPECT_STREQ(dhcp_counter_name(NT_DHCP_CNT_MALFORMED), "malformed");
    EXPECT_STREQ(dhcp_counter_name(NT_DHCP_CNT_MAX), "");
    EXPECT_TRUE(dhcp_counter_is_sent(NT_DHCP_OFFER));
    EXPECT_FALSE(dhcp_counter_is_sent(NT_DHCP_REQUEST));
}

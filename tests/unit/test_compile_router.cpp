// compile_routers: router interface ports -> router MAC FDB entries, gateway
// neighbours and per-router LPM route tables, on the hosts the routers serve.
//
// State: tests/fixtures/packet-route.json (the packet tests' routing state).
// router-1 has interfaces on net-a (10.1.0.1, after an IPv6 address),
// net-b (10.2.0.1) and net-small (10.4.0.1), and five static routes: via a
// VM on net-b, via router-3's address on net-b, via an address on no
// connected subnet, one with the prefix of a connected subnet, and an IPv6
// default. router-2 has one interface, on net-c; router-3 one, on net-b.
// h1 has VMs on all four networks, h2 on net-a and net-b, h3 only on net-a.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "maps/compile.hpp"
#include "maps/compile_nat.hpp"
#include "maps/state.hpp"

using namespace neutrino;

namespace {

constexpr uint32_t kNetA = 0x0e7a0001, kNetB = 0x0e7a0002, kNetSmall = 0x0e7a0003, kNetC = 0x0e7a0004;
constexpr uint32_t kRouter1 = 0xf07a0001, kRouter2 = 0xf07a0002, kRouter3 = 0xf07a0003;

// A router interface of the fixture: its router, network, MAC, first IPv4
// address and connected /24.
struct Iface {
    uint32_t router, net;
    const char* mac;
    const char* ip;
    const char* subnet;
};
constexpr Iface kR1A{kRouter1, kNetA, "fa:16:3e:7a:aa:01", "10.1.0.1", "10.1.0.0"};
constexpr Iface kR1B{kRouter1, kNetB, "fa:16:3e:7a:aa:02", "10.2.0.1", "10.2.0.0"};
constexpr Iface kR1Small{kRouter1, kNetSmall, "fa:16:3e:7a:aa:03", "10.4.0.1", "10.4.0.0"};
constexpr Iface kR2C{kRouter2, kNetC, "fa:16:3e:7a:cc:01", "10.3.0.1", "10.3.0.0"};
constexpr Iface kR3B{kRouter3, kNetB, "fa:16:3e:7a:bb:02", "10.2.0.2", "10.2.0.0"};

State fixture() { return load_state_file(std::string(NT_FIXTURES) + "/packet-route.json"); }

// Each host's taps (and tunnel interface) exist: every local port compiles.
MapEntries compiled(const State& s, const std::string& host) {
    CompileInput in;
    in.host = host;
    in.ifindex_by_name = {{"lo", 1}, {"vtep0", 5}, {"t-a1", 11}, {"t-b1", 12}, {"t-nh", 13},
                          {"t-s1", 14}, {"t-c1", 15}, {"t-a3", 16}};
    in.tunnel_interface = "vtep0";
    return compile(s, in).entries;
}

union nt_ip abi_ip(const char* s) { return IpAddr::parse(s)->to_abi(); }

bool same_ip(const union nt_ip& got, const char* want) { return bytes_equal(got, abi_ip(want)); }

bool same_mac(const uint8_t* got, const char* want) {
    return std::memcmp(got, MacAddr::parse(want)->b.data(), NT_ETH_ALEN) == 0;
}

nt_fdb_key fdb_key(uint32_t net, const char* mac) {
    nt_fdb_key k{};
    k.net_id = net;
    std::memcpy(k.mac, MacAddr::parse(mac)->b.data(), NT_ETH_ALEN);
    return k;
}

nt_neigh_key neigh_key(uint32_t net, const char* ip) { return {net, 0, abi_ip(ip)}; }

// The LPM key of an IPv4 prefix in a router's table: the router id's 32 bits,
// then the IPv4-mapped address (96 bits) and the prefix, host bits cleared.
nt_route_key route_key(uint32_t router, const char* net, int plen) {
    return {static_cast<uint32_t>(32 + 96 + plen), router, abi_ip(net)};
}

Port& port_named(State& s, const std::string& name) {
    for (auto& p : s.ports)
        if (p.name == name) return p;
    throw std::out_of_range("no port " + name);
}

size_t routes_of(const MapEntries& e, uint32_t router) {
    size_t n = 0;
    for (const auto& [k, v] : e.routes) n += k.router_id == router;
    return n;
}

size_t router_fdb_entries(const MapEntries& e) {
    size_t n = 0;
    for (const auto& [k, v] : e.fdb) n += (v.flags & NT_FDB_ROUTER) != 0;
    return n;
}

// The interface's MAC is a router MAC on its network, its address the
// router's there.
void expect_router_mac(const MapEntries& e, const Iface& i) {
    SCOPED_TRACE(i.mac);
    auto it = e.fdb.find(fdb_key(i.net, i.mac));
    ASSERT_NE(it, e.fdb.end()) << "no FDB entry for the router MAC";
    EXPECT_EQ(it->second.flags, unsigned(NT_FDB_ROUTER));
    EXPECT_EQ(it->second.router_id, i.router);
    EXPECT_TRUE(same_ip(it->second.router_ip, i.ip)) << "router_ip is the interface's first IPv4 address";
}

// Its /24 is a connected route of its router, out of its network with its MAC.
void expect_connected(const MapEntries& e, const Iface& i) {
    SCOPED_TRACE(std::string(i.subnet) + "/24");
    auto it = e.routes.find(route_key(i.router, i.subnet, 24));
    ASSERT_NE(it, e.routes.end()) << "no connected route";
    EXPECT_EQ(it->second.net_id, i.net);
    EXPECT_EQ(it->second.flags, unsigned(NT_ROUTE_CONNECTED));
    EXPECT_TRUE(same_mac(it->second.mac, i.mac)) << "source MAC on the egress network";
    EXPECT_TRUE(bytes_equal(it->second.nexthop, nt_ip{})) << "a connected route has no next hop";
}

// Nothing of the interface: no router MAC, gateway neighbour or connected route.
void expect_absent(const MapEntries& e, const Iface& i) {
    SCOPED_TRACE(i.mac);
    EXPECT_FALSE(e.fdb.count(fdb_key(i.net, i.mac)));
    EXPECT_FALSE(e.neigh.count(neigh_key(i.net, i.ip)));
    EXPECT_FALSE(e.routes.count(route_key(i.router, i.subnet, 24)));
}

}  // namespace

TEST(CompileRouter, RouterInterfaceMacsAreRouterFdbEntries) {
    const auto e = compiled(fixture(), "h1");
    // r1-a holds 2001:db8:1::1 before 10.1.0.1: its errors come from the
    // first IPv4 address. r1-small is a legacy (non-DVR) router interface.
    for (const Iface& i : {kR1A, kR1B, kR1Small, kR2C, kR3B}) expect_router_mac(e, i);
    EXPECT_EQ(router_fdb_entries(e), 5u);
    // A router MAC lives on its own network only.
    EXPECT_FALSE(e.fdb.count(fdb_key(kNetB, kR1A.mac)));
    EXPECT_FALSE(e.fdb.count(fdb_key(kNetA, kR2C.mac)));
}

TEST(CompileRouter, GatewayAddressesAreRouterNeighbours) {
    const auto e = compiled(fixture(), "h1");
    auto expect_gateway = [&](uint32_t net, const char* ip, const char* mac) {
        SCOPED_TRACE(ip);
        auto it = e.neigh.find(neigh_key(net, ip));
        ASSERT_NE(it, e.neigh.end());
        EXPECT_TRUE(same_mac(it->second.mac, mac));
        EXPECT_EQ(it->second.flags, NT_NEIGH_ROUTER);
        EXPECT_EQ(it->second.port_tag, 0u) << "a gateway is no port of this host";
    };
    for (const Iface& i : {kR1A, kR1B, kR1Small, kR2C, kR3B}) expect_gateway(i.net, i.ip, i.mac);
    expect_gateway(kNetA, "2001:db8:1::1", kR1A.mac);
    EXPECT_FALSE(e.neigh.count(neigh_key(kNetB, kR1A.ip))) << "a gateway answers on its own network only";
}

TEST(CompileRouter, ConnectedSubnetsRouteToTheirNetworkWithTheRouterMacThere) {
    const auto e = compiled(fixture(), "h1");
    // router-1 and router-3 share net-b: each has 10.2.0.0/24 in its own table.
    for (const Iface& i : {kR1A, kR1B, kR1Small, kR2C, kR3B}) expect_connected(e, i);
}

TEST(CompileRouter, StaticRouteGoesViaItsNexthopOnTheConnectedSubnet) {
    const auto e = compiled(fixture(), "h1");
    auto it = e.routes.find(route_key(kRouter1, "10.9.0.0", 24));
    ASSERT_NE(it, e.routes.end());
    EXPECT_EQ(it->second.net_id, kNetB) << "the next hop 10.2.0.254 is on sub-b";
    EXPECT_EQ(it->second.flags, unsigned(NT_ROUTE_VIA));
    EXPECT_TRUE(same_ip(it->second.nexthop, "10.2.0.254"));
    EXPECT_TRUE(same_mac(it->second.mac, kR1B.mac)) << "router-1's MAC on net-b";
    // Via another router's address: a route like any other here.
    auto via_r3 = e.routes.find(route_key(kRouter1, "10.50.0.0", 16));
    ASSERT_NE(via_r3, e.routes.end());
    EXPECT_EQ(via_r3->second.flags, unsigned(NT_ROUTE_VIA));
    EXPECT_EQ(via_r3->second.net_id, kNetB);
    EXPECT_TRUE(same_ip(via_r3->second.nexthop, kR3B.ip));
}

TEST(CompileRouter, StaticRouteKeyHasTheHostBitsCleared) {
    auto s = fixture();
    s.routers[0].routes = {{Cidr{*IpAddr::parse("10.9.0.77"), 24}, *IpAddr::parse("10.2.0.254")}};
    const auto e = compiled(s, "h1");
    EXPECT_TRUE(e.routes.count(route_key(kRouter1, "10.9.0.0", 24)));
    EXPECT_FALSE(e.routes.count(route_key(kRouter1, "10.9.0.77", 24)));
}

TEST(CompileRouter, StaticRouteWithANexthopOnNoConnectedSubnetIsNotCompiled) {
    // 10.8.0.0/16 via 10.7.0.1: router-1 has no interface on 10.7.0.0/x.
    const auto e = compiled(fixture(), "h1");
    for (int plen = 0; plen <= 32; plen++)
        EXPECT_FALSE(e.routes.count(route_key(kRouter1, "10.8.0.0", plen))) << "/" << plen;
}

TEST(CompileRouter, ConnectedRouteWinsOverAStaticRouteWithTheSamePrefix) {
    // 10.2.0.0/24 via 10.1.0.11 is in router-1's routes; sub-b is connected.
    expect_connected(compiled(fixture(), "h1"), kR1B);
    // The same with the static route first and the connected interface last.
    auto s = fixture();
    auto& routes = s.routers[0].routes;
    std::rotate(routes.begin(), routes.begin() + 2, routes.end());
    std::stable_partition(s.ports.begin(), s.ports.end(), [](const Port& p) { return p.name != "r1-b"; });
    expect_connected(compiled(s, "h1"), kR1B);
}

TEST(CompileRouter, RouteTablesHoldExactlyTheRoutableIpv4Prefixes) {
    // The datapath routes IPv4: its LPM keys are IPv4-mapped addresses. An
    // IPv6 prefix in the same trie would match IPv4 destinations (::/0
    // covers ::ffff:0:0/96), so the IPv6 default route must not be there.
    const auto e = compiled(fixture(), "h1");
    for (const auto& [k, v] : e.routes) {
        SCOPED_TRACE("router " + std::to_string(k.router_id) + " prefixlen " + std::to_string(k.prefixlen));
        EXPECT_GE(k.prefixlen, 32u + 96u) << "shorter than any IPv4 prefix: covers IPv4-mapped addresses";
        EXPECT_TRUE(k.dst.w[0] == 0 && k.dst.w[1] == 0 && k.dst.w[2] == htonl(0xffff)) << "not IPv4-mapped";
    }
    // router-1: three connected subnets, 10.9.0.0/24 and 10.50.0.0/16;
    // router-2 and router-3: one each.
    EXPECT_EQ(routes_of(e, kRouter1), 5u);
    EXPECT_EQ(routes_of(e, kRouter2), 1u);
    EXPECT_EQ(routes_of(e, kRouter3), 1u);
}

TEST(CompileRouter, AdminDownRouterCompilesNothing) {
    auto s = fixture();
    s.routers[0].admin_state_up = false;
    for (const char* h : {"h1", "h3"}) {
        SCOPED_TRACE(h);
        const auto e = compiled(s, h);
        EXPECT_EQ(routes_of(e, kRouter1), 0u);
        EXPECT_FALSE(e.router_info.count(kRouter1));
        for (const Iface& i : {kR1A, kR1B, kR1Small}) expect_absent(e, i);
    }
    // h3 has VMs on net-a only: without the router, net-b is nothing to it.
    EXPECT_FALSE(compiled(s, "h3").nets.count(nt_net_key{kNetB}));
    // router-2 is untouched.
    EXPECT_EQ(routes_of(compiled(s, "h1"), kRouter2), 1u);
}

TEST(CompileRouter, AdminDownInterfaceCompilesNothingForThatInterface) {
    auto s = fixture();
    port_named(s, "r1-b").admin_state_up = false;
    const auto e = compiled(s, "h1");
    EXPECT_FALSE(e.fdb.count(fdb_key(kR1B.net, kR1B.mac)));
    EXPECT_FALSE(e.neigh.count(neigh_key(kR1B.net, kR1B.ip)));
    EXPECT_FALSE(e.routes.count(route_key(kRouter1, "10.9.0.0", 24))) << "its next hop is no longer on-link";
    // 10.2.0.0/24 is no longer connected: the static route (via a1 on
    // net-a) is what remains for it.
    auto via = e.routes.find(route_key(kRouter1, "10.2.0.0", 24));
    ASSERT_NE(via, e.routes.end());
    EXPECT_EQ(via->second.flags, unsigned(NT_ROUTE_VIA));
    EXPECT_EQ(via->second.net_id, kNetA);
    EXPECT_TRUE(same_ip(via->second.nexthop, "10.1.0.11"));
    EXPECT_TRUE(same_mac(via->second.mac, kR1A.mac));
    // The router's other interfaces still route.
    for (const Iface& i : {kR1A, kR1Small}) {
        expect_router_mac(e, i);
        expect_connected(e, i);
    }
    EXPECT_EQ(routes_of(e, kRouter1), 3u) << "10.1.0.0/24, 10.4.0.0/24, 10.2.0.0/24 via a1";
}

TEST(CompileRouter, RouterWithoutAnInterfaceOnALocalVmNetworkCompilesNothingThere) {
    // h3's only VM is on net-a; router-2 (net-c only) does not serve h3,
    // nor does router-3, whose net-b h3 reaches only through router-1.
    const auto e = compiled(fixture(), "h3");
    for (uint32_t r : {kRouter2, kRouter3}) {
        EXPECT_EQ(routes_of(e, r), 0u) << r;
        EXPECT_FALSE(e.router_info.count(r)) << r;
    }
    expect_absent(e, kR2C);
    EXPECT_FALSE(e.fdb.count(fdb_key(kR3B.net, kR3B.mac)));
    EXPECT_FALSE(e.neigh.count(neigh_key(kR3B.net, kR3B.ip)));
    EXPECT_FALSE(e.nets.count(nt_net_key{kNetC}));
    // A host with no VM at all routes for nobody.
    State s = fixture();
    port_named(s, "a3").host_id = "h2";
    const auto none = compiled(s, "h3");
    EXPECT_TRUE(none.routes.empty());
    EXPECT_TRUE(none.router_info.empty());
    EXPECT_EQ(router_fdb_entries(none), 0u);
}

TEST(CompileRouter, HostWithVmsOnOneNetworkReachesThePortsBehindItsRouter) {
    // h3 routes for a3 (net-a) through router-1: net-b and net-small and
    // their ports on other hosts must be reachable from h3.
    const auto e = compiled(fixture(), "h3");
    for (uint32_t net : {kNetA, kNetB, kNetSmall}) EXPECT_TRUE(e.nets.count(nt_net_key{net})) << net;
    EXPECT_EQ(e.ports.size(), 1u) << "still only a3 is a port here";
    for (auto [mac, ip, vtep] : {std::tuple{"fa:16:3e:7a:00:02", "10.2.0.12", "192.0.2.1"},    // b1 on h1
                                 std::tuple{"fa:16:3e:7a:00:fe", "10.2.0.254", "192.0.2.1"},   // nh on h1
                                 std::tuple{"fa:16:3e:7a:00:06", "10.2.0.13", "192.0.2.2"}}) { // b2 on h2
        SCOPED_TRACE(ip);
        auto f = e.fdb.find(fdb_key(kNetB, mac));
        ASSERT_NE(f, e.fdb.end());
        EXPECT_EQ(f->second.flags, unsigned(NT_FDB_REMOTE));
        EXPECT_EQ(f->second.ifindex, 5u) << "the tunnel interface";
        EXPECT_TRUE(same_ip(f->second.vtep, vtep));
        auto n = e.neigh.find(neigh_key(kNetB, ip));
        ASSERT_NE(n, e.neigh.end()) << "routing needs the destination's MAC";
        EXPECT_TRUE(same_mac(n->second.mac, mac));
        EXPECT_EQ(n->second.flags, NT_NEIGH_PORT | NT_NEIGH_REMOTE);
    }
    auto s1 = e.neigh.find(neigh_key(kNetSmall, "10.4.0.14"));
    ASSERT_NE(s1, e.neigh.end());
    EXPECT_EQ(s1->second.flags, NT_NEIGH_PORT | NT_NEIGH_REMOTE);
    EXPECT_TRUE(e.tun_nets.count(nt_tun_key{NT_NET_VXLAN, 4002}));
    EXPECT_TRUE(e.tun_nets.count(nt_tun_key{NT_NET_GRE, 4003}));
    expect_router_mac(e, kR1B);
    expect_connected(e, kR1B);
}

TEST(CompileRouter, RouterInfoKeepsIdAndName) {
    const auto e = compiled(fixture(), "h1");
    ASSERT_EQ(e.router_info.size(), 3u);
    EXPECT_STREQ(e.router_info.at(kRouter1).id, "f07a0001-0000-4000-8000-0000000000a1");
    EXPECT_STREQ(e.router_info.at(kRouter1).name, "router-1");
    EXPECT_STREQ(e.router_info.at(kRouter2).id, "f07a0002-0000-4000-8000-0000000000a2");
    EXPECT_STREQ(e.router_info.at(kRouter2).name, "router-2");
    EXPECT_STREQ(e.router_info.at(kRouter3).name, "router-3");
}

TEST(CompileRouter, RouterInterfaceBoundToAnotherHostIsStillTheRouterHere) {
    // A legacy router interface bound to a network node (h2) is no VM port
    // there: on h1 its MAC stays a router MAC, not a remote port's.
    auto s = fixture();
    port_named(s, "r1-a").host_id = "h2";
    const auto e = compiled(s, "h1");
    expect_router_mac(e, kR1A);
    EXPECT_EQ(e.neigh.at(neigh_key(kNetA, kR1A.ip)).flags, NT_NEIGH_ROUTER);
    EXPECT_EQ(e.ports.size(), 5u);
}

// ---- external next hops resolved at apply time ----------------------------------
// State: tests/fixtures/e2e-routing.json. router-1's gateway 172.31.208.102
// is on "public" (flat, physnet "public" = eth2 on both hosts), whose subnet's
// gateway is 172.31.208.1; compute-1 is the SNAT host and translates
// a1's floating IP 172.31.208.110; compute-2 has VMs behind router-1 but
// neither.

namespace {

State routing_fixture() { return load_state_file(std::string(NT_FIXTURES) + "/e2e-routing.json"); }

std::vector<ExternalNextHop> next_hops(const State& s, const std::string& host) {
    CompileInput in;
    in.host = host;
    uint32_t ifindex = 10;
    for (const auto& p : s.ports) in.ifindex_by_name[p.interface_name] = ifindex++;  // every tap exists
    return compile(s, in).external_next_hops;
}

}  // namespace

TEST(CompileRouter, SnatOwnerResolvesTheExternalGatewayAsTheRoutersExternalAddress) {
    auto hops = next_hops(routing_fixture(), "compute-1");
    ASSERT_EQ(hops.size(), 1u);
    EXPECT_EQ(hops[0].interface, "eth2");
    EXPECT_EQ(hops[0].vlan, 0);
    EXPECT_EQ(hops[0].mac, *MacAddr::parse("fa:16:3e:aa:00:0e"));
    EXPECT_EQ(hops[0].source, *IpAddr::parse("172.31.208.102"));
    EXPECT_EQ(hops[0].target, *IpAddr::parse("172.31.208.1"));
}

TEST(CompileRouter, HostWithoutSnatAddressOrFloatingIpResolvesNothing) {
    EXPECT_TRUE(next_hops(routing_fixture(), "compute-2").empty());
}

TEST(CompileRouter, HostWithAFloatingIpAsksAsTheFloatingIp) {
    State s = routing_fixture();
    s.floatingips[0].port_id = "a1000005-0e70-4000-8000-000000000001";  // a2, on compute-2
    s.floatingips[0].fixed_ip_address = IpAddr::parse("10.1.0.15");
    auto hops = next_hops(s, "compute-2");
    ASSERT_EQ(hops.size(), 1u);
    EXPECT_EQ(hops[0].source, *IpAddr::parse("172.31.208.110"));
    EXPECT_EQ(hops[0].mac, external_mac(s, s.routers[0], port_named(s, "r1-gw"), "compute-2"))
        << "asks with compute-2's own MAC: the gateway port's is the SNAT host's";
    EXPECT_NE(hops[0].mac, *MacAddr::parse("fa:16:3e:aa:00:0e"));
    EXPECT_EQ(hops[0].target, *IpAddr::parse("172.31.208.1"));
}

TEST(CompileRouter, VlanExternalNetworkResolvesWithItsTag) {
    State s = routing_fixture();
    for (auto& n : s.networks)
        if (n.external) {
            n.type = NetworkType::Vlan;
            n.segmentation_id = 208;
        }
    auto hops = next_hops(s, "compute-1");
    ASSERT_EQ(hops.size(), 1u);
    EXPECT_EQ(hops[0].vlan, 208);
}

TEST(CompileRouter, RouterWithoutExternalGatewayResolvesNothing) {
    State s = routing_fixture();
    for (auto& r : s.routers) r.external_gateway_info.reset();
    EXPECT_TRUE(next_hops(s, "compute-1").empty());
}

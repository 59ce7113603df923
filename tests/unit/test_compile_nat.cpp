// compile_router_nat and the SNAT host: one host per router translates its
// default SNAT (DVR's central SNAT), the others send such flows there; each
// host's floating IPs sit behind a MAC of that host's own.
//
// State: tests/fixtures/e2e-routing.json. router-1 (interfaces on net-a and
// net-b, gateway 172.31.208.102 on the flat external network "public") has
// VMs on compute-1 (tunnel 192.0.2.11) and compute-2 (192.0.2.12); its
// gateway port is unbound, so the SNAT host is the first of those by name,
// compute-1. a1's floating IP 172.31.208.110 is translated on compute-1.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "maps/compile.hpp"
#include "maps/compile_nat.hpp"
#include "maps/state.hpp"

using namespace neutrino;

namespace {

constexpr uint32_t kRouter1 = 0xf0000001;
constexpr const char* kGatewayMac = "fa:16:3e:aa:00:0e";
constexpr const char* kB2 = "a1000003-0e70-4000-8000-000000000001";  // on compute-2, net-b

State fixture() { return load_state_file(std::string(NT_FIXTURES) + "/e2e-routing.json"); }

Port& gateway_port(State& s) {
    for (auto& p : s.ports)
        if (p.device_owner == "network:router_gateway") return p;
    throw std::out_of_range("no gateway port");
}

uint32_t external_net(const MapEntries& e) {
    for (const auto& [k, v] : e.nets)
        if (v.flags & NT_NET_EXTERNAL) return k.net_id;
    throw std::out_of_range("no external network compiled");
}

MapEntries compiled(const State& s, const std::string& host) {
    CompileInput in;
    in.host = host;
    uint32_t ifindex = 10;
    for (const auto& p : s.ports) in.ifindex_by_name[p.interface_name] = ifindex++;  // every tap exists
    in.ifindex_by_name["eth2"] = 2;
    in.ifindex_by_name["tun0"] = 3;
    in.tunnel_interface = "tun0";
    return compile(s, in).entries;
}

bool same_ip(const union nt_ip& got, const char* want) { return bytes_equal(got, IpAddr::parse(want)->to_abi()); }

nt_fdb_key fdb_key(uint32_t net, const MacAddr& mac) {
    nt_fdb_key k{};
    k.net_id = net;
    std::memcpy(k.mac, mac.b.data(), NT_ETH_ALEN);
    return k;
}

const nt_neigh& neigh(const MapEntries& e, uint32_t net, const char* ip) {
    return e.neigh.at(nt_neigh_key{net, 0, IpAddr::parse(ip)->to_abi()});
}

// b2 (compute-2) gets a floating IP, so compute-2 translates something too.
State with_fip_on_compute2() {
    State s = fixture();
    FloatingIp f = s.floatingips[0];
    f.id = "f1000002-0000-4000-8000-0000000000f2";
    f.floating_ip_address = *IpAddr::parse("172.31.208.111");
    f.port_id = kB2;
    f.fixed_ip_address = IpAddr::parse("10.2.0.13");
    s.floatingips.push_back(f);
    return s;
}

}  // namespace

TEST(CompileNat, SnatHostIsTheFirstHostWithVmsWhenTheGatewayPortIsUnbound) {
    State s = fixture();
    EXPECT_EQ(snat_host(s, s.routers[0]), "compute-1");

    const auto c1 = compiled(s, "compute-1").snat.at(kRouter1);
    EXPECT_EQ(c1.flags, 0u);
    EXPECT_TRUE(same_ip(c1.ext_ip, "172.31.208.102"));
    EXPECT_EQ(c1.port_min, NT_SNAT_PORT_MIN) << "the whole range: no other host binds ports";
    EXPECT_EQ(c1.port_max, NT_SNAT_PORT_MAX);

    const auto c2 = compiled(s, "compute-2").snat.at(kRouter1);
    EXPECT_EQ(c2.flags, unsigned(NT_SNAT_REMOTE)) << "compute-2 sends its VMs' SNAT flows to compute-1";
    EXPECT_TRUE(same_ip(c2.snat_host, "192.0.2.11"));
    EXPECT_EQ(c2.port_max, 0u) << "and binds no port itself";
}

TEST(CompileNat, SnatHostIsTheGatewayPortsBindingHost) {
    State s = fixture();
    gateway_port(s).host_id = "compute-2";
    EXPECT_EQ(snat_host(s, s.routers[0]), "compute-2");
    EXPECT_EQ(compiled(s, "compute-2").snat.at(kRouter1).flags, 0u);
    const auto c1 = compiled(s, "compute-1").snat.at(kRouter1);
    EXPECT_EQ(c1.flags, unsigned(NT_SNAT_REMOTE));
    EXPECT_TRUE(same_ip(c1.snat_host, "192.0.2.12"));
}

TEST(CompileNat, GatewayBoundToAnUnknownHostFallsBackToTheFirstHostWithVms) {
    State s = fixture();
    gateway_port(s).host_id = "no-such-host";
    EXPECT_EQ(snat_host(s, s.routers[0]), "compute-1");
}

TEST(CompileNat, SnatHostWithoutVmsCompilesTheRouterAndReachesItsNetworks) {
    State s = fixture();
    Host net1;
    net1.name = "network-1";
    net1.tunnel_ip = IpAddr::parse("192.0.2.20");
    net1.physical_interface_mappings = {{"public", "eth2"}};
    s.hosts.push_back(net1);
    gateway_port(s).host_id = "network-1";

    const auto e = compiled(s, "network-1");
    ASSERT_TRUE(e.snat.count(kRouter1)) << "the SNAT host compiles the router though no VM of it runs here";
    EXPECT_EQ(e.snat.at(kRouter1).flags, 0u);
    EXPECT_TRUE(e.router_info.count(kRouter1));
    // The replies go to the VMs' hosts: a1 (compute-1) and b2 (compute-2)
    // are remote FDB entries of their networks here.
    size_t remote = 0;
    for (const auto& [k, v] : e.fdb) remote += (v.flags & NT_FDB_REMOTE) != 0;
    EXPECT_GE(remote, 4u);
    EXPECT_TRUE(neigh(e, external_net(e), "172.31.208.102").flags & NT_NEIGH_ROUTER);
    EXPECT_FALSE(neigh(e, external_net(e), "172.31.208.102").flags & NT_NEIGH_QUIET);
    // And both compute hosts send their SNAT flows to it.
    EXPECT_TRUE(same_ip(compiled(s, "compute-1").snat.at(kRouter1).snat_host, "192.0.2.20"));
    EXPECT_TRUE(same_ip(compiled(s, "compute-2").snat.at(kRouter1).snat_host, "192.0.2.20"));
}

TEST(CompileNat, OnlyTheSnatHostAnswersArpForTheExternalAddress) {
    State s = fixture();
    auto c1 = compiled(s, "compute-1");
    auto c2 = compiled(s, "compute-2");
    EXPECT_FALSE(neigh(c1, external_net(c1), "172.31.208.102").flags & NT_NEIGH_QUIET);
    // compute-2 knows the address (its VMs' pings of it are answered there)
    // but stays quiet on the external network.
    EXPECT_TRUE(neigh(c2, external_net(c2), "172.31.208.102").flags & NT_NEIGH_QUIET);
}

TEST(CompileNat, EachHostSendsAndAnswersOnTheExternalNetworkWithItsOwnMac) {
    State s = with_fip_on_compute2();
    const Router& r = s.routers[0];
    const Port& gw = gateway_port(s);
    const MacAddr m1 = external_mac(s, r, gw, "compute-1");
    const MacAddr m2 = external_mac(s, r, gw, "compute-2");
    EXPECT_EQ(m1, *MacAddr::parse(kGatewayMac)) << "the SNAT host uses the gateway port's MAC";
    EXPECT_NE(m2, m1);
    EXPECT_EQ(m2.b[0], 0x06) << "locally administered, unicast";
    EXPECT_EQ(m2, external_mac(s, r, gw, "compute-2")) << "stable";
    EXPECT_NE(m2, external_mac(s, r, gw, "compute-3"));

    auto e = compiled(s, "compute-2");
    const uint32_t ext = external_net(e);
    ASSERT_TRUE(e.fdb.count(fdb_key(ext, m2))) << "frames to compute-2's MAC are routed here";
    EXPECT_EQ(e.fdb.at(fdb_key(ext, m2)).router_id, kRouter1);
    EXPECT_FALSE(e.fdb.count(fdb_key(ext, m1))) << "frames to the SNAT host's MAC are not this host's";
    const nt_neigh& fip = neigh(e, ext, "172.31.208.111");
    EXPECT_EQ(std::memcmp(fip.mac, m2.b.data(), NT_ETH_ALEN), 0) << "the floating IP answers with compute-2's MAC";
    // The default route out sends with it.
    const auto def = e.routes.at(nt_route_key{32 + 96, kRouter1, IpAddr::parse("0.0.0.0")->to_abi()});
    EXPECT_EQ(std::memcmp(def.mac, m2.b.data(), NT_ETH_ALEN), 0);
}

namespace {

// net-b (GRE in the fixture) as VLAN 300 on the physnet "public".
State with_net_b_on_a_vlan() {
    State s = fixture();
    for (auto& n : s.networks)
        if (n.name == "net-b") {
            n.type = NetworkType::Vlan;
            n.segmentation_id = 300;
            n.physical_network = "public";
        }
    return s;
}

uint32_t net_named(const MapEntries& e, const std::string& name) {
    for (const auto& [k, v] : e.net_info)
        if (std::string(v.name) == name) return k.net_id;
    throw std::out_of_range("no network " + name);
}

}  // namespace

// On a VLAN/flat tenant network there is no tunnel to the SNAT host: other
// hosts send their VMs' SNAT flows to the router's SNAT MAC there, which only
// the SNAT host routes; its frames onto that network leave from that MAC so
// the switch learns where it is.
TEST(CompileNat, VlanTenantNetworkReachesTheSnatHostAtTheRoutersSnatMac) {
    State s = with_net_b_on_a_vlan();
    const MacAddr transit = snat_transit_mac(s.routers[0]);
    EXPECT_EQ(transit.b[0], 0x06);
    EXPECT_NE(transit, external_mac(s, s.routers[0], gateway_port(s), "compute-2"));

    const auto c1 = compiled(s, "compute-1");
    const uint32_t net_b = net_named(c1, "net-b"), net_a = net_named(c1, "net-a");
    ASSERT_TRUE(c1.fdb.count(fdb_key(net_b, transit)));
    EXPECT_EQ(c1.fdb.at(fdb_key(net_b, transit)).flags, unsigned(NT_FDB_ROUTER | NT_FDB_SNAT_PEER));
    EXPECT_EQ(c1.fdb.at(fdb_key(net_b, transit)).router_id, kRouter1);
    EXPECT_FALSE(c1.fdb.count(fdb_key(net_a, transit))) << "VXLAN net-a reaches the SNAT host over the tunnel";
    const auto to_b = c1.routes.at(nt_route_key{32 + 96 + 24, kRouter1, IpAddr::parse("10.2.0.0")->to_abi()});
    EXPECT_EQ(std::memcmp(to_b.mac, transit.b.data(), NT_ETH_ALEN), 0);

    const auto c2 = compiled(s, "compute-2");
    const auto sn = c2.snat.at(kRouter1);
    EXPECT_EQ(std::memcmp(sn.snat_mac, transit.b.data(), NT_ETH_ALEN), 0);
    EXPECT_FALSE(c2.fdb.count(fdb_key(net_b, transit))) << "only the SNAT host routes frames to it";
    const auto to_b2 = c2.routes.at(nt_route_key{32 + 96 + 24, kRouter1, IpAddr::parse("10.2.0.0")->to_abi()});
    EXPECT_EQ(std::memcmp(to_b2.mac, MacAddr::parse("fa:16:3e:aa:00:02")->b.data(), NT_ETH_ALEN), 0);
}

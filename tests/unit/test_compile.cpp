// compile: the example state on compute-1 gives exactly these entries.
#include <gtest/gtest.h>

#include "maps/compile.hpp"
#include "maps/state.hpp"

#include <set>

using namespace neutrino;

namespace {

State example() { return load_state_file(std::string(NT_EXAMPLES) + "/neutron-state.json"); }

CompileInput compute1(bool with_p1 = true) {
    CompileInput in;
    in.host = "compute-1";
    in.ifindex_by_name = {{"lo", 1}, {"tapc1eef425-c0", 10}, {"tape3001647-e2", 11}};
    if (with_p1) in.ifindex_by_name["tapf4112758-f3"] = 12;
    return in;
}

template <class K>
K key_of(std::initializer_list<uint8_t> bytes) {
    K k{};
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<uint8_t*>(&k));
    return k;
}

nt_fdb_key fdb_key(uint32_t net, MacAddr mac) {
    nt_fdb_key k{};
    k.net_id = net;
    std::copy(mac.b.begin(), mac.b.end(), k.mac);
    return k;
}

nt_neigh_key neigh_key(uint32_t net, const char* ip) {
    nt_neigh_key k{};
    k.net_id = net;
    k.ip = IpAddr::parse(ip)->to_abi();
    return k;
}

}  // namespace

TEST(CompactIds, UuidPrefixIsTheId) {
    EXPECT_EQ(compact_id_hint("3bb9ca55-d2e5-45eb-b782-e4de1f60014a"), 0x3bb9ca55u);
}

TEST(CompactIds, NonUuidIdsHashAndAreNeverZero) {
    EXPECT_NE(compact_id_hint("net-red"), 0u);
    EXPECT_NE(compact_id_hint("net-red"), compact_id_hint("net-blue"));
    EXPECT_EQ(compact_id_hint("00000000-0000-0000-0000-000000000000"), 1u);
}

TEST(CompactIds, CollisionsResolveInSortedOrder) {
    const std::string a1 = "aaaaaaaa-0000-4000-8000-000000000001", a2 = "aaaaaaaa-0000-4000-8000-000000000002",
                      b = "bbbbbbbb-0000-4000-8000-000000000000";
    auto ids = assign_compact_ids({a2, a1, b});
    EXPECT_EQ(ids.at(a1), 0xaaaaaaaau);
    EXPECT_EQ(ids.at(a2), 0xaaaaaaabu);
    EXPECT_EQ(ids.at(b), 0xbbbbbbbbu);
}

TEST(CompactIds, IdsSharingAUuidPrefixButNotUuidsHashApart) {
    // e.g. "<group uuid>/rule-7": all would collide on the prefix
    std::vector<std::string> ids;
    for (int i = 0; i < 2000; i++) ids.push_back("e2e0000a-0000-4000-8000-00000000000a/r" + std::to_string(i));
    auto tags = assign_compact_ids(ids);
    std::set<uint32_t> distinct;
    for (auto& [k, v] : tags) distinct.insert(v);
    EXPECT_EQ(distinct.size(), ids.size());
    EXPECT_NE(tags.at(ids[0]), 0xe2e0000au);
}

TEST(Compile, ExampleOnCompute1HasOneEntrySetPerLocalVmPort) {
    auto r = compile(example(), compute1());
    // vm-a1 (GRE), vm-b1 (VXLAN), vm-p1 (VLAN) are bound to compute-1; the
    // router ports and vm-a2 (compute-2) are not taps here. router-a serves
    // tenant-a, so this host also routes into its external network "public":
    // + the network, the router MACs on tenant-a and public (FDB), the
    // gateway 192.168.1.1, the external IP and vm-a1's floating IP (ARP).
    ASSERT_EQ(r.local_ports.size(), 3u);
    EXPECT_TRUE(r.pending_ports.empty());
    EXPECT_EQ(r.entries.ports.size(), 3u);
    EXPECT_EQ(r.entries.nets.size(), 4u);
    EXPECT_EQ(r.entries.fdb.size(), 5u);
    EXPECT_EQ(r.entries.flood.size(), 3u);
    EXPECT_EQ(r.entries.neigh.size(), 6u);
    EXPECT_EQ(r.entries.router_info.size(), 1u);
    // 192.168.1.0/24 and 172.31.208.0/24 connected, default via 172.31.208.1
    EXPECT_EQ(r.entries.routes.size(), 3u);
    EXPECT_EQ(r.entries.snat.size(), 1u);
    EXPECT_EQ(r.entries.fips.size(), 2u);  // 192.168.1.17 <-> 172.31.208.110
    EXPECT_EQ(r.entries.port_info.size(), 3u);
    EXPECT_EQ(r.entries.net_info.size(), 4u);
}

TEST(Compile, PortEntryCarriesNetworkMacFlagsMtuAndTag) {
    auto r = compile(example(), compute1());
    nt_port_key k{10};
    ASSERT_TRUE(r.entries.ports.count(k));
    const nt_port& p = r.entries.ports.at(k);
    EXPECT_EQ(p.net_id, 0x3bb9ca55u);
    EXPECT_EQ(p.flags, unsigned(NT_PORT_ADMIN_UP | NT_PORT_SECURITY));
    const uint8_t mac[6] = {0xfa, 0x16, 0x3e, 0xa1, 0x00, 0x01};
    EXPECT_EQ(std::memcmp(p.mac, mac, 6), 0);
    EXPECT_EQ(p.mtu, 1458);
    EXPECT_EQ(p.port_tag, 0xc1eef425u);
    // port security off: no NT_PORT_SECURITY flag
    EXPECT_EQ(r.entries.ports.at(nt_port_key{12}).flags, unsigned(NT_PORT_ADMIN_UP));
}

TEST(Compile, OverlappingTenantsGetDistinctNetworkKeys) {
    auto r = compile(example(), compute1());
    // vm-a1 and vm-b1 both own 192.168.1.17, in different networks.
    auto a = neigh_key(0x3bb9ca55u, "192.168.1.17");
    auto b = neigh_key(0x8a2c1f40u, "192.168.1.17");
    ASSERT_TRUE(r.entries.neigh.count(a));
    ASSERT_TRUE(r.entries.neigh.count(b));
    EXPECT_EQ(r.entries.neigh.at(a).mac[3], 0xa1);
    EXPECT_EQ(r.entries.neigh.at(b).mac[3], 0xb1);
    EXPECT_EQ(r.entries.neigh.at(a).flags, NT_NEIGH_PORT);
    EXPECT_EQ(r.entries.neigh.at(a).port_tag, 0xc1eef425u);
}

TEST(Compile, FdbAndFloodPointAtTheTap) {
    auto r = compile(example(), compute1());
    auto k = fdb_key(0x8a2c1f40u, *MacAddr::parse("fa:16:3e:b1:00:01"));
    ASSERT_TRUE(r.entries.fdb.count(k));
    EXPECT_EQ(r.entries.fdb.at(k).ifindex, 11u);
    EXPECT_EQ(r.entries.fdb.at(k).flags, unsigned(NT_FDB_LOCAL));
    nt_flood_key fk{0x8a2c1f40u, 0};
    ASSERT_TRUE(r.entries.flood.count(fk));
    EXPECT_EQ(r.entries.flood.at(fk).ifindex, 11u);
    const nt_net& n = r.entries.nets.at(nt_net_key{0x8a2c1f40u});
    EXPECT_EQ(n.type, unsigned(NT_NET_VXLAN));
    EXPECT_EQ(n.seg_id, 2002u);
    EXPECT_EQ(n.mtu, 1450);
    EXPECT_EQ(n.flood_count, 1u);
}

TEST(Compile, NamesAreKeptForInspection) {
    auto r = compile(example(), compute1());
    const nt_port_info& i = r.entries.port_info.at(0xc1eef425u);
    EXPECT_STREQ(i.id, "c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e");
    EXPECT_STREQ(i.name, "vm-a1");
    EXPECT_STREQ(i.ifname, "tapc1eef425-c0");
    EXPECT_EQ(i.ifindex, 10u);
    EXPECT_STREQ(r.entries.net_info.at(nt_net_key{0x3bb9ca55u}).name, "tenant-a");
}

TEST(Compile, MissingTapIsPendingAndCompilesNothing) {
    auto r = compile(example(), compute1(false));
    ASSERT_EQ(r.pending_ports.size(), 1u);
    EXPECT_EQ(r.pending_ports[0].interface_name, "tapf4112758-f3");
    EXPECT_EQ(r.entries.ports.size(), 2u);
    EXPECT_FALSE(r.entries.nets.count(nt_net_key{0xc0a8b3a6u}));
}

TEST(Compile, OtherHostGetsOnlyItsOwnPorts) {
    CompileInput in;
    in.host = "compute-2";
    in.ifindex_by_name = {{"tapd2ff0536-d1", 7}};
    auto r = compile(example(), in);
    ASSERT_EQ(r.local_ports.size(), 1u);
    EXPECT_EQ(r.local_ports[0].port_id, "d2ff0536-d1b5-4d95-8e4d-2a3b4c5d6e7f");
    // Fixed IPs only: the allowed-address-pair VIP 192.168.1.100 is answered
    // by its owner. And the gateway 192.168.1.1: router-a serves this host
    // too. The external IP is known (a VM's ping of it is answered here)
    // but quiet: compute-1, the SNAT host, answers ARP for it. Not the
    // floating IP (translated where its VM is, on compute-1).
    EXPECT_EQ(r.entries.neigh.size(), 3u);
    size_t quiet = 0;
    for (const auto& [k, v] : r.entries.neigh)
        if (v.flags & NT_NEIGH_QUIET) quiet++;
    EXPECT_EQ(quiet, 1u);
    EXPECT_TRUE(r.entries.fips.empty());
}

TEST(Compile, IsDeterministic) {
    auto a = compile(example(), compute1());
    auto b = compile(example(), compute1());
    EXPECT_TRUE(a.entries == b.entries);
}

TEST(Compile, FloodSlotsFollowInterfaceNamesNotFileOrder) {
    State s = example();
    // Put a second port on tenant-b, listed before vm-b1 in the file.
    Port extra = *s.find_port("e3001647-e2c6-4ea6-9f5e-3b4c5d6e7f80");
    extra.id = "a0000000-0000-4000-8000-000000000001";
    extra.name = "vm-b0";
    extra.mac_address = *MacAddr::parse("fa:16:3e:b1:00:09");
    extra.fixed_ips[0].ip_address = *IpAddr::parse("192.168.1.30");
    extra.interface_name = default_interface_name(extra.id);
    s.ports.insert(s.ports.begin(), extra);
    auto in = compute1();
    in.ifindex_by_name[extra.interface_name] = 20;
    auto r = compile(s, in);
    EXPECT_EQ(r.entries.nets.at(nt_net_key{0x8a2c1f40u}).flood_count, 2u);
    EXPECT_EQ(r.entries.flood.at(nt_flood_key{0x8a2c1f40u, 0}).ifindex, 20u);  // "tapa0000000-00"
    EXPECT_EQ(r.entries.flood.at(nt_flood_key{0x8a2c1f40u, 1}).ifindex, 11u);  // "tape3001647-e2"
}

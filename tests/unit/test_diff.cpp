// diff and the no-op re-apply.
#include <gtest/gtest.h>

#include "maps/compile.hpp"
#include "maps/map_store.hpp"
#include "maps/state.hpp"

using namespace neutrino;

namespace {

State example() { return load_state_file(std::string(NT_EXAMPLES) + "/neutron-state.json"); }

CompileInput compute1() {
    CompileInput in;
    in.host = "compute-1";
    in.ifindex_by_name = {{"tapc1eef425-c0", 10}, {"tape3001647-e2", 11}, {"tapf4112758-f3", 12}};
    return in;
}

}  // namespace

TEST(Diff, FromNothingWritesEveryEntry) {
    auto want = compile(example(), compute1()).entries;
    Plan p = diff(MapEntries{}, want);
    EXPECT_EQ(p.writes(), want.size());
    EXPECT_EQ(p.deletes(), 0u);
}

TEST(Diff, SameEntriesGiveAnEmptyPlan) {
    auto want = compile(example(), compute1()).entries;
    EXPECT_TRUE(diff(want, want).empty());
}

TEST(Diff, ToNothingDeletesEveryEntry) {
    auto cur = compile(example(), compute1()).entries;
    Plan p = diff(cur, MapEntries{});
    EXPECT_EQ(p.writes(), 0u);
    EXPECT_EQ(p.deletes(), cur.size());
}

TEST(Diff, MacChangeTouchesOnlyThatPortsEntries) {
    State s = example();
    auto before = compile(s, compute1()).entries;
    for (auto& p : s.ports)
        if (p.name == "vm-b1") p.mac_address = *MacAddr::parse("fa:16:3e:b1:00:99");
    auto after = compile(s, compute1()).entries;
    Plan p = diff(before, after);
    EXPECT_EQ(p.ports.upserts.size(), 1u);   // the port's MAC
    EXPECT_EQ(p.fdb.upserts.size(), 1u);     // new MAC in ...
    EXPECT_EQ(p.fdb.deletes.size(), 1u);     // ... old MAC out
    EXPECT_EQ(p.neigh.upserts.size(), 1u);   // 192.168.1.17 -> new MAC
    EXPECT_EQ(p.neigh.deletes.size(), 0u);
    // anti-spoofing: MAC-wide, fixed-IP and link-local entries move to the new MAC
    EXPECT_EQ(p.addrs.upserts.size(), 3u);
    EXPECT_EQ(p.addrs.deletes.size(), 3u);
    EXPECT_TRUE(p.nets.upserts.empty());
    EXPECT_TRUE(p.flood.upserts.empty());
    EXPECT_TRUE(p.sg_ports.upserts.empty());  // the policy itself did not change
    EXPECT_EQ(p.writes() + p.deletes(), 10u);
}

TEST(Diff, RemovingAPortRemovesItsEntriesAndItsOnlyNetwork) {
    State s = example();
    auto before = compile(s, compute1()).entries;
    s.ports.erase(std::remove_if(s.ports.begin(), s.ports.end(),
                                 [](const Port& p) { return p.name == "vm-p1"; }),
                  s.ports.end());
    s.floatingips.clear();
    auto after = compile(s, compute1()).entries;
    Plan p = diff(before, after);
    EXPECT_EQ(p.writes(), 0u);
    // port, port_info, fdb, neigh, flood slot, net, net_info; and the
    // floating IP's two translations and its ARP entry
    EXPECT_EQ(p.deletes(), 10u);
}

TEST(Apply, ReapplyingTheSameStateWritesNothing) {
    MemoryMapStore store;
    auto want = compile(example(), compute1()).entries;
    store.apply(diff(store.read_all(), want));
    const size_t first = store.writes();
    EXPECT_EQ(first, want.size());
    EXPECT_TRUE(store.read_all() == want);
    Plan again = diff(store.read_all(), compile(example(), compute1()).entries);
    EXPECT_TRUE(again.empty());
    store.apply(again);
    EXPECT_EQ(store.writes(), first);
    EXPECT_EQ(store.deletes(), 0u);
}

TEST(Apply, PlanTurnsCurrentIntoDesired) {
    State s = example();
    MemoryMapStore store;
    store.apply(diff(store.read_all(), compile(s, compute1()).entries));
    for (auto& p : s.ports)
        if (p.name == "vm-a1") p.admin_state_up = false;
    auto want = compile(s, compute1()).entries;
    store.apply(diff(store.read_all(), want));
    EXPECT_TRUE(store.read_all() == want);
    EXPECT_EQ(store.read_all().ports.at(nt_port_key{10}).flags, unsigned(NT_PORT_SECURITY));
}

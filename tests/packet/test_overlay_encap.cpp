// Sending to another host (tap_ingress -> nt_tc_send_remote / nt_tc_encap /
// nt_tc_flood_remote): VXLAN and GRE encapsulation byte for byte, the VLAN
// tag of provider networks, flat frames untouched, head-end replication.
//
// Expected packets come from libtins (Ethernet, IPv4 with its checksum, UDP)
// plus VXLAN/GRE headers written by hand (libtins has neither; see
// overlay_env.hpp). The outer Ethernet header is deterministic because vtep0
// has a fixed MAC and the remote VTEPs are permanent neighbours.
#include <set>

#include "overlay_env.hpp"

namespace nt_test {
namespace {

class OverlayEncap : public OverlayTest {
protected:
    enum class Tunnel { Vxlan, Gre };

    // out is inner inside a tunnel packet from h1 to vtep, byte for byte.
    // The IP id and the VXLAN source port come from the inner flow hash,
    // which cannot be recomputed here (the kernel seeds it randomly): they
    // are taken from out after checking that they are what the hash gives:
    // id = hash & 0xffff, source port = 49152 | (hash & 0x3fff).
    ::testing::AssertionResult is_tunnelled(const Bytes& out, Tunnel t, const Ip& vtep, const Mac& vtep_mac,
                                            const Bytes& inner) {
        if (out.size() < 14 + 20 + 8) return ::testing::AssertionFailure() << "only " << out.size() << " bytes";
        Outer o = to_remote(vtep, vtep_mac);
        o.ip_id = static_cast<uint16_t>(out[18] << 8 | out[19]);
        if (t == Tunnel::Gre) return same_frame(out, gre_packet(o, kGreKey, inner));
        o.udp_sport = static_cast<uint16_t>(out[34] << 8 | out[35]);
        if (o.udp_sport < 49152)
            return ::testing::AssertionFailure() << "UDP source port " << o.udp_sport << " outside 49152-65535";
        if ((o.udp_sport & 0x3fff) != (o.ip_id & 0x3fff))
            return ::testing::AssertionFailure() << "source port " << o.udp_sport << " and IP id " << o.ip_id
                                                 << " are not from the same flow hash";
        return same_frame(out, vxlan_packet(o, kVni, inner));
    }

    // The hash-derived 16 bits of an encapsulated frame: IP id.
    static uint16_t ip_id(const Bytes& out) { return static_cast<uint16_t>(out.at(18) << 8 | out.at(19)); }
    static uint16_t udp_sport(const Bytes& out) { return static_cast<uint16_t>(out.at(34) << 8 | out.at(35)); }

    // UDP from a local port to a port on h2: trace run and real run both
    // yield the tunnel packet and a redirect to vtep0; the real run counts
    // it once on vtep0's encap counter.
    void expect_encapsulated_to_h2(const std::string& from, const std::string& to, Tunnel t) {
        const Bytes frame = udp(port(from), port(to));
        RunResult tr = tap_ingress(from, frame, true);
        EXPECT_EQ(tr.retval, kTcActRedirect) << describe(tr);
        EXPECT_EQ(tr.cb.verdict, NT_VERDICT_REDIRECT) << describe(tr);
        EXPECT_EQ(tr.cb.target, ifindex(kTunnelIf)) << describe(tr);
        EXPECT_TRUE(is_tunnelled(tr.out, t, kVtep2, kVtep2Mac, frame)) << from << " -> " << to;
        // Outer Ethernet + IPv4 + UDP + VXLAN, or + GRE with its key.
        EXPECT_EQ(tr.out.size(), frame.size() + (t == Tunnel::Vxlan ? 50 : 42));
        EXPECT_EQ(uplink_stats(kTunnelIf).encap.packets, 0u) << "trace mode must not count";

        RunResult r = tap_ingress(from, frame, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_TRUE(same_frame(r.out, tr.out)) << "the same frame encapsulates the same way every time";
        auto s = uplink_stats(kTunnelIf);
        EXPECT_EQ(s.encap.packets, 1u);
        EXPECT_EQ(s.encap.bytes, r.out.size());
        EXPECT_EQ(port_stats(from).from_vm.packets, 1u);
        EXPECT_EQ(total_drop_packets(), 0u);
    }
};

TEST_F(OverlayEncap, VxlanUnicastToAPortOnAnotherHostIsEncapsulatedExactly) {
    expect_encapsulated_to_h2("vx-a", "vx-b", Tunnel::Vxlan);
}

TEST_F(OverlayEncap, GreUnicastToAPortOnAnotherHostIsEncapsulatedExactly) {
    expect_encapsulated_to_h2("gre-a", "gre-b", Tunnel::Gre);
}

TEST_F(OverlayEncap, ArpToAPortOnAnotherHostIsEncapsulatedWhole) {
    // Not IP: nt_tc_encap takes its bpf_skb_change_head branch. The frame is
    // libtins' 60-byte ARP (padding included), carried as is.
    for (auto [from, to, t] : {std::tuple{"vx-a", "vx-b", Tunnel::Vxlan}, std::tuple{"gre-a", "gre-b", Tunnel::Gre}}) {
        SCOPED_TRACE(from);
        const auto &a = port(from), &b = port(to);
        Bytes frame = arp_reply(a.mac, a.ip, b.mac, b.ip);
        RunResult r = tap_ingress(from, frame, true);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_EQ(r.cb.target, ifindex(kTunnelIf)) << describe(r);
        EXPECT_TRUE(is_tunnelled(r.out, t, kVtep2, kVtep2Mac, frame));
    }
}

TEST_F(OverlayEncap, HashFieldsFollowTheInnerFlow) {
    // The UDP source port (and the IP id) come from the inner flow hash: the
    // same flow always gets the same port (no reordering across ECMP paths),
    // different flows spread over the range.
    const auto &a = port("vx-a"), &b = port("vx-b");
    std::set<uint16_t> ports;
    for (uint16_t sport = 40000; sport < 40016; sport++) {
        Bytes frame = bytes(Tins::EthernetII(b.mac, a.mac) / Tins::IP(b.ip, a.ip) / Tins::UDP(7, sport) /
                            Tins::RawPDU("flow"));
        RunResult first = tap_ingress("vx-a", frame, true), again = tap_ingress("vx-a", frame, true);
        ASSERT_TRUE(is_tunnelled(first.out, Tunnel::Vxlan, kVtep2, kVtep2Mac, frame)) << "inner port " << sport;
        EXPECT_EQ(udp_sport(first.out), udp_sport(again.out)) << "inner port " << sport;
        EXPECT_EQ(ip_id(first.out), ip_id(again.out)) << "inner port " << sport;
        ports.insert(udp_sport(first.out));
    }
    EXPECT_GE(ports.size(), 8u) << "16 flows should not share a handful of source ports";

    // GRE has no port: its IP id is the flow's hash, the same on every run.
    const auto &ga = port("gre-a"), &gb = port("gre-b");
    Bytes g = udp(ga, gb);
    EXPECT_EQ(ip_id(tap_ingress("gre-a", g, true).out), ip_id(tap_ingress("gre-a", g, false).out));
}

TEST_F(OverlayEncap, BroadcastIsCopiedToLocalPortsAndToEveryRemoteHost) {
    // vx: vx-a2 is local, vx-b on h2, vx-c on h3: one plain copy, one
    // tunnel packet per remote host, each with its own outer destination
    // and checksum (rewritten per copy from one encapsulation).
    const auto& a = port("vx-a");
    Bytes frame = udp_broadcast(a);

    RunResult t = tap_ingress("vx-a", frame, true);
    EXPECT_EQ(t.retval, kTcActShot) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << describe(t);
    EXPECT_EQ(t.cb.target, 3u) << "copies: vx-a2, h2, h3";

    Capture local(port("vx-a2").peer), self(a.peer), gre(port("gre-a").peer);
    Capture underlay(kTunnelPeer);
    RunResult r = tap_ingress("vx-a", frame, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r) << " (the clones carry the frame)";
    auto until = Capture::Clock::now() + Capture::kWait;
    auto got_local = local.frames(until), got_tun = underlay.frames(until);
    ASSERT_EQ(got_local.size(), 1u);
    EXPECT_TRUE(same_frame(got_local[0], frame));
    EXPECT_TRUE(self.frames(until).empty()) << "never back to the sender";
    EXPECT_TRUE(gre.frames(until).empty()) << "never into another network";

    ASSERT_EQ(got_tun.size(), 2u) << "one tunnel packet per remote host";
    std::sort(got_tun.begin(), got_tun.end(), [](const Bytes& x, const Bytes& y) { return x.at(33) < y.at(33); });
    EXPECT_TRUE(is_tunnelled(got_tun[0], Tunnel::Vxlan, kVtep2, kVtep2Mac, frame)) << "copy to h2";
    EXPECT_TRUE(is_tunnelled(got_tun[1], Tunnel::Vxlan, kVtep3, kVtep3Mac, frame)) << "copy to h3";
    EXPECT_EQ(uplink_stats(kTunnelIf).encap.packets, 2u);
    EXPECT_EQ(port_stats("vx-a").flooded.packets, 1u);
    EXPECT_EQ(total_drop_packets(), 0u);
}

TEST_F(OverlayEncap, GreBroadcastGoesOnlyToHostsWithPortsInTheNetwork) {
    // gre has ports on h1 and h2 only: no copy to h3, and no local copy.
    Bytes frame = arp_request(port("gre-a"), Ip("192.168.1.99"));  // no such address: not answered
    Capture underlay(kTunnelPeer);
    RunResult r = tap_ingress("gre-a", frame, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    auto got = underlay.frames();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(is_tunnelled(got[0], Tunnel::Gre, kVtep2, kVtep2Mac, frame));
}

TEST_F(OverlayEncap, VlanUnicastLeavesTheUplinkTagged) {
    // The tag goes into the skb's metadata (bpf_skb_vlan_push), where a test
    // run's output cannot show it: the program is attached for real and the
    // frame is sent by the "VM"; the underlay side sees the tag.
    const auto &a = port("vlan-a"), &b = port("vlan-b");
    Bytes frame = udp(a, b);
    RunResult t = tap_ingress("vlan-a", frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
    EXPECT_EQ(t.cb.target, ifindex(kPhys1)) << describe(t);

    attach_tc(neutrino::kProgTapIngress, a.tap, true);
    Capture wire(kPhys1Peer), tun(kTunnelPeer);
    inject(a.peer, frame);
    auto until = Capture::Clock::now() + Capture::kWait;
    auto got = wire.frames(until);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(same_frame(got[0], with_vlan_tag(frame, kVlanId)));
    EXPECT_TRUE(tun.frames(until).empty()) << "provider traffic never enters a tunnel";
    EXPECT_EQ(uplink_stats(kPhys1).encap.packets, 1u);
}

TEST_F(OverlayEncap, VlanBroadcastCopyIsTagged) {
    const auto& a = port("vlan-a");
    Bytes frame = udp_broadcast(a);
    Capture wire(kPhys1Peer);
    RunResult r = tap_ingress("vlan-a", frame, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    auto got = wire.frames();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(same_frame(got[0], with_vlan_tag(frame, kVlanId)));
}

TEST_F(OverlayEncap, FlatUnicastLeavesTheUplinkUntouched) {
    const auto &a = port("flat-a"), &b = port("flat-b");
    Bytes frame = udp(a, b);
    RunResult t = tap_ingress("flat-a", frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.target, ifindex(kPhys2)) << describe(t);
    EXPECT_TRUE(same_frame(t.out, frame));

    attach_tc(neutrino::kProgTapIngress, a.tap, true);
    Capture wire(kPhys2Peer);
    inject(a.peer, frame);
    auto got = wire.frames();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(same_frame(got[0], frame)) << "no tag on a flat network";
}

}  // namespace
}  // namespace nt_test

// Receiving from another host (bpf/uplink.bpf.c): uplink_xdp lets valid
// tunnel packets pass untouched and drops bad ones before an skb exists;
// uplink_ingress (TC) decapsulates VXLAN/GRE to the right tap, pops the VLAN
// tag of provider frames, takes flat frames as they are, and lets the host's
// own traffic through untouched. Every refusal has its reason, in the trace
// report and in the counters.
#include <tins/icmp.h>
#include <tins/ipv6.h>
#include <tins/tcp.h>

#include "overlay_env.hpp"

namespace nt_test {
namespace {

class OverlayDecap : public OverlayTest {
protected:
    Outer from_h2() const { return from_remote(kVtep2, kVtep2Mac); }

    // A valid tunnel packet: XDP passes it as it is; TC (trace and real)
    // decapsulates it and redirects the inner frame, exactly, to the tap.
    void expect_decapsulated_to(const Bytes& packet, const Bytes& inner, const std::string& to) {
        RunResult x = uplink_xdp(kTunnelIf, packet);
        EXPECT_EQ(x.retval, kXdpPass);
        EXPECT_TRUE(same_frame(x.out, packet)) << "XDP only filters";

        RunResult t = uplink_tc(kTunnelIf, packet, true);
        EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
        EXPECT_EQ(t.cb.target, port(to).ifindex) << describe(t) << ", want the tap of " << to;
        EXPECT_TRUE(same_frame(t.out, inner)) << "the inner frame, exactly";
        EXPECT_EQ(uplink_stats(kTunnelIf).decap.packets, 0u) << "trace mode must not count";

        RunResult r = uplink_tc(kTunnelIf, packet, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_TRUE(same_frame(r.out, inner));
        auto s = uplink_stats(kTunnelIf);
        EXPECT_EQ(s.decap.packets, 1u);
        EXPECT_EQ(s.decap.bytes, packet.size()) << "counted as received, outer headers included";
        EXPECT_EQ(total_drop_packets(), 0u);
    }

    // A tunnel packet for this host that must be refused with reason: by
    // XDP and by TC alike (TC sees it when XDP is not attached, e.g. a
    // driver without XDP), reported in trace mode without being counted.
    void expect_refused(const Bytes& packet, uint32_t reason) {
        const uint64_t before = drop_packets(reason), before_all = total_drop_packets();
        const auto stats_before = uplink_stats(kTunnelIf);
        expect_trace_drop(uplink_tc(kTunnelIf, packet, true), reason);
        EXPECT_EQ(total_drop_packets(), before_all) << "trace mode must not count";

        RunResult r = uplink_tc(kTunnelIf, packet, false);
        EXPECT_EQ(r.retval, kTcActShot) << describe(r);
        RunResult x = uplink_xdp(kTunnelIf, packet);
        EXPECT_EQ(x.retval, kXdpDrop);
        EXPECT_EQ(drop_packets(reason) - before, 2u) << "one per program run";
        EXPECT_EQ(total_drop_packets() - before_all, 2u) << "and under no other reason";
        auto s = uplink_stats(kTunnelIf);
        EXPECT_EQ(s.dropped.packets - stats_before.dropped.packets, 2u);
        EXPECT_EQ(s.dropped.bytes - stats_before.dropped.bytes, 2 * packet.size());
        EXPECT_EQ(s.decap.packets, stats_before.decap.packets);
    }

    // Each capture got exactly one frame, inner, by the deadline.
    static void expect_one_copy_each(std::initializer_list<Capture*> caps, Capture::Clock::time_point until,
                                     const Bytes& inner) {
        for (auto* cap : caps) {
            auto got = cap->frames(until);
            ASSERT_EQ(got.size(), 1u);
            EXPECT_TRUE(same_frame(got[0], inner));
        }
    }

    // Traffic that is none of Neutrino's business on an uplink: passed on by
    // both programs, byte for byte, counted nowhere.
    void expect_passed(const std::string& uplink, const Bytes& packet) {
        RunResult x = uplink_xdp(uplink, packet);
        EXPECT_EQ(x.retval, kXdpPass);
        EXPECT_TRUE(same_frame(x.out, packet));
        for (bool trace : {true, false}) {
            RunResult r = uplink_tc(uplink, packet, trace);
            EXPECT_EQ(r.retval, kTcActOk) << describe(r) << (trace ? " (trace)" : "");
            EXPECT_TRUE(same_frame(r.out, packet));
            EXPECT_TRUE(r.cb.verdict == NT_VERDICT_NONE || r.cb.verdict == NT_VERDICT_PASS) << describe(r);
        }
        EXPECT_EQ(total_drop_packets(), 0u);
        auto s = uplink_stats(uplink);
        EXPECT_EQ(s.decap.packets + s.dropped.packets, 0u);
    }
};

TEST_F(OverlayDecap, VxlanIsDecapsulatedToTheDestinationTap) {
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    expect_decapsulated_to(vxlan_packet(from_h2(), kVni, inner), inner, "vx-a");
}

TEST_F(OverlayDecap, GreIsDecapsulatedToTheDestinationTap) {
    Bytes inner = udp(port("gre-b"), port("gre-a"));
    expect_decapsulated_to(gre_packet(from_h2(), kGreKey, inner), inner, "gre-a");
}

TEST_F(OverlayDecap, ArpInsideATunnelIsDecapsulatedToo) {
    // The inner frame is not IP; the outer one is, which is all the
    // decapsulation needs.
    const auto &a = port("vx-a"), &b = port("vx-b");
    Bytes inner = arp_reply(b.mac, b.ip, a.mac, a.ip);
    expect_decapsulated_to(vxlan_packet(from_h2(), kVni, inner), inner, "vx-a");
}

TEST_F(OverlayDecap, GreWithOptionalFieldsIsDecapsulated) {
    // Checksum and sequence words move the key and the inner frame; a
    // sender may use them (the kernel's gretap does with csum/seq on).
    Bytes inner = udp(port("gre-b"), port("gre-a"));
    Bytes gre = gre_header(0x8000 | kGreFlagKey | 0x1000, kGreProtoTeb, kGreKey);
    expect_decapsulated_to(outer_ipv4(from_h2(), kIpProtoGre, concat(gre, inner)), inner, "gre-a");
}

TEST_F(OverlayDecap, TheVniSelectsTheNetwork) {
    // vx and gre share addresses; a frame for gre-a's MAC carried in the
    // VXLAN network is not gre-a's: it is unknown unicast in vx, flooded to
    // vx's local ports only.
    const auto &ga = port("gre-a"), &b = port("vx-b");
    Bytes inner = udp(b.mac, ga.mac, b.ip, ga.ip);
    Bytes packet = vxlan_packet(from_h2(), kVni, inner);

    RunResult t = uplink_tc(kTunnelIf, packet, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << describe(t);
    EXPECT_EQ(t.cb.target, 2u) << "vx-a and vx-a2";

    Capture gre(ga.peer), vx_a(port("vx-a").peer), vx_a2(port("vx-a2").peer);
    Capture underlay(kTunnelPeer);
    RunResult r = uplink_tc(kTunnelIf, packet, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    auto until = Capture::Clock::now() + Capture::kWait;
    EXPECT_TRUE(gre.frames(until).empty()) << "another network's port";
    expect_one_copy_each({&vx_a, &vx_a2}, until, inner);
    EXPECT_TRUE(underlay.frames(until).empty()) << "split horizon: nothing goes back to the tunnel";
}

TEST_F(OverlayDecap, BroadcastFromAnotherHostReachesLocalPortsOnly) {
    Bytes inner = arp_request(port("vx-b"), port("vx-a").ip);
    Bytes packet = vxlan_packet(from_h2(), kVni, inner);
    Capture vx_a(port("vx-a").peer), vx_a2(port("vx-a2").peer);
    Capture underlay(kTunnelPeer);
    RunResult r = uplink_tc(kTunnelIf, packet, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    auto until = Capture::Clock::now() + Capture::kWait;
    expect_one_copy_each({&vx_a, &vx_a2}, until, inner);
    EXPECT_TRUE(underlay.frames(until).empty()) << "split horizon: never re-flooded to h3";
    EXPECT_EQ(uplink_stats(kTunnelIf).decap.packets, 1u);
}

TEST_F(OverlayDecap, UnknownVniIsDropped) {
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    expect_refused(vxlan_packet(from_h2(), 4242, inner), NT_DROP_UNKNOWN_VNI);
}

TEST_F(OverlayDecap, UnknownGreKeyIsDropped) {
    Bytes inner = udp(port("gre-b"), port("gre-a"));
    expect_refused(gre_packet(from_h2(), 4242, inner), NT_DROP_UNKNOWN_VNI);
}

TEST_F(OverlayDecap, VxlanVniOfTheGreNetworkIsUnknown) {
    // VNI 1001 is gre's key, not a VXLAN network: (type, id) is the key.
    Bytes inner = udp(port("gre-b"), port("gre-a"));
    expect_refused(vxlan_packet(from_h2(), kGreKey, inner), NT_DROP_UNKNOWN_VNI);
}

TEST_F(OverlayDecap, UnknownVtepIsDropped) {
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    expect_refused(vxlan_packet(from_remote(kStranger, kStrangerMac), kVni, inner), NT_DROP_UNKNOWN_VTEP);
}

TEST_F(OverlayDecap, UnknownVtepIsDroppedForGreToo) {
    Bytes inner = udp(port("gre-b"), port("gre-a"));
    expect_refused(gre_packet(from_remote(kStranger, kStrangerMac), kGreKey, inner), NT_DROP_UNKNOWN_VTEP);
}

TEST_F(OverlayDecap, TruncatedVxlanHeaderIsBadTunnel) {
    Bytes vx = vxlan_header(kVni);
    vx.resize(4);
    expect_refused(outer_udp(from_h2(), kVxlanPort, vx), NT_DROP_BAD_TUNNEL);
}

TEST_F(OverlayDecap, VxlanWithoutTheVniFlagIsBadTunnel) {
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    expect_refused(outer_udp(from_h2(), kVxlanPort, concat(vxlan_header(kVni, 0), inner)), NT_DROP_BAD_TUNNEL);
}

// Short tunnel packets are padded to Ethernet's 60-byte minimum on the wire
// (libtins pads as a NIC does): the padding is not part of the IP datagram,
// so a header or inner frame that only fits thanks to it is still truncated.

TEST_F(OverlayDecap, TruncatedInnerEthernetIsBadTunnel) {
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    inner.resize(10);
    expect_refused(vxlan_packet(from_h2(), kVni, inner), NT_DROP_BAD_TUNNEL);  // 60 bytes: no padding
}

TEST_F(OverlayDecap, TruncatedInnerEthernetInGreIsBadTunnelDespitePadding) {
    Bytes inner = udp(port("gre-b"), port("gre-a"));
    inner.resize(10);  // 52 bytes of IP datagram, padded to 60
    expect_refused(gre_packet(from_h2(), kGreKey, inner), NT_DROP_BAD_TUNNEL);
}

TEST_F(OverlayDecap, TruncatedGreHeaderIsBadTunnel) {
    Bytes half = gre_header(kGreFlagKey, kGreProtoTeb, kGreKey);
    half.resize(2);  // not even flags and protocol
    expect_refused(outer_ipv4(from_h2(), kIpProtoGre, half), NT_DROP_BAD_TUNNEL);
}

TEST_F(OverlayDecap, GreKeyMissingIsBadTunnelDespitePadding) {
    // K is set but the datagram ends after flags and protocol: the "key"
    // would be read from the Ethernet padding.
    Bytes gre = gre_header(kGreFlagKey, kGreProtoTeb, std::nullopt);
    expect_refused(outer_ipv4(from_h2(), kIpProtoGre, gre), NT_DROP_BAD_TUNNEL);
}

TEST_F(OverlayDecap, RuntInnerFrameIsCountedAsDroppedNotDelivered) {
    // 20 bytes of inner frame: an Ethernet header and 6 bytes. The
    // classifier accepts it (the header fits), the decapsulation cannot
    // shrink to it: a bad-tunnel drop, counted as a refusal on the uplink
    // and not as a frame received for local ports.
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    inner.resize(20);
    Bytes packet = vxlan_packet(from_h2(), kVni, inner);
    expect_trace_drop(uplink_tc(kTunnelIf, packet, true), NT_DROP_BAD_TUNNEL);
    RunResult r = uplink_tc(kTunnelIf, packet, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_BAD_TUNNEL), 1u);
    auto s = uplink_stats(kTunnelIf);
    EXPECT_EQ(s.dropped.packets, 1u) << "a refused tunnel packet is an uplink drop";
    EXPECT_EQ(s.decap.packets, 0u) << "nothing was delivered";
}

TEST_F(OverlayDecap, FragmentedTunnelPacketIsBadTunnel) {
    Outer o = from_h2();
    o.dont_fragment = false;
    o.more_fragments = true;
    expect_refused(vxlan_packet(o, kVni, udp(port("vx-b"), port("vx-a"))), NT_DROP_BAD_TUNNEL);
}

TEST_F(OverlayDecap, HostTrafficOnTheTunnelInterfacePassesUntouched) {
    Outer elsewhere = from_h2();
    elsewhere.dst = Ip("192.0.2.50");
    auto to_host = [&](Tins::PDU&& l4) {
        return bytes(Tins::EthernetII(kTunnelMac, kVtep2Mac) / Tins::IP(kVtep1, kVtep2) / l4);
    };
    const Bytes frames[] = {
        to_host(Tins::ICMP(Tins::ICMP::ECHO_REQUEST)),                           // ping the tunnel IP
        to_host(Tins::TCP(22, 40000)),                                          // ssh to the host
        to_host(Tins::UDP(53, 40000) / Tins::RawPDU("dns")),                    // UDP, not 4789
        arp_request(kVtep2Mac, kVtep2, kVtep1),                                 // ARP for the tunnel IP
        // VXLAN for another address (not this host's tunnel endpoint)
        vxlan_packet(elsewhere, kVni, udp(port("vx-b"), port("vx-a"))),
        bytes(Tins::EthernetII(kTunnelMac, kVtep2Mac) / Tins::IPv6("fd00::1", "fd00::2") /
              Tins::UDP(4789, 4789) / Tins::RawPDU("v6")),                      // IPv6, even to 4789
    };
    for (size_t i = 0; i < std::size(frames); i++) {
        SCOPED_TRACE("frame " + std::to_string(i));
        expect_passed(kTunnelIf, frames[i]);
    }
}

TEST_F(OverlayDecap, UntaggedHostTrafficOnAVlanUplinkPassesUntouched) {
    // physnet1 carries only the VLAN network: untagged frames are the host's.
    expect_passed(kPhys1, bytes(Tins::EthernetII(kTunnelMac, kVtep2Mac) / Tins::IP("10.9.0.1", "10.9.0.2") /
                                Tins::UDP(53, 40000) / Tins::RawPDU("dns")));
}

TEST_F(OverlayDecap, FlatFrameIsDeliveredAsItIs) {
    Bytes frame = udp(port("flat-b"), port("flat-a"));
    RunResult t = uplink_tc(kPhys2, frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.target, port("flat-a").ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, frame));
    RunResult r = uplink_tc(kPhys2, frame, false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_EQ(uplink_stats(kPhys2).decap.packets, 1u);
}

TEST_F(OverlayDecap, VlanTagIsPoppedOnTheWayToTheTap) {
    // The stack moves a received tag into the skb metadata before TC runs,
    // which a test run cannot do: uplink_ingress is attached for real and a
    // tagged frame arrives from the "switch".
    const auto &a = port("vlan-a"), &b = port("vlan-b");
    Bytes frame = udp(b, a);
    attach_tc(neutrino::kProgUplinkIngress, kPhys1, true);
    Capture vm(a.peer);
    inject(kPhys1Peer, with_vlan_tag(frame, kVlanId));
    auto got = vm.frames();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(same_frame(got[0], frame)) << "untagged, otherwise as sent";
    EXPECT_EQ(uplink_stats(kPhys1).decap.packets, 1u);

    // Another VLAN on the same trunk is not Neutrino's: nothing reaches the VM.
    inject(kPhys1Peer, with_vlan_tag(frame, 200));
    EXPECT_TRUE(vm.frames().empty()) << "VLAN 200 belongs to no network";
    EXPECT_EQ(uplink_stats(kPhys1).decap.packets, 1u);
    EXPECT_EQ(total_drop_packets(), 0u) << "passed to the stack, not dropped";
}

TEST_F(OverlayDecap, TunnelPacketInAForeignVlanOfAPhysnetTrunkIsNotDecapsulated) {
    // eth1 is physnet1's trunk: VLAN 100 is Neutrino's, VLAN 200 is not.
    // A VXLAN packet to this host's tunnel address from a known VTEP's
    // address, tagged 200, belongs to no network here: the stack (which has
    // no VLAN 200 device) drops it. It must not become a frame of "vx".
    const auto& a = port("vx-a");
    Bytes inner = udp(port("vx-b"), a);
    attach_tc(neutrino::kProgUplinkIngress, kPhys1, true);
    Capture vm(a.peer), vm2(port("vx-a2").peer);
    inject(kPhys1Peer, with_vlan_tag(vxlan_packet(from_h2(), kVni, inner), 200));
    auto until = Capture::Clock::now() + Capture::kWait;
    auto leaked = vm.frames(until);
    EXPECT_TRUE(leaked.empty()) << "decapsulated from VLAN 200 into vx: " << leaked.size() << " frame(s) at vx-a";
    EXPECT_TRUE(vm2.frames(until).empty());
    EXPECT_EQ(uplink_stats(kPhys1).decap.packets, 0u);
}

}  // namespace
}  // namespace nt_test

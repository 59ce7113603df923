// The overlay test environment (OverlayTest): host h1 of packet-overlay.json
// in the test's private namespace, with everything the uplink programs and
// the remote half of tap_ingress need to see a real host:
//
//   t-<port> / p-<port>   one veth pair per port bound to h1 (tap / VM side)
//   vtep0 / sw-vtep0      the tunnel interface, holding h1's tunnel_ip
//                         192.0.2.1/24 and a fixed MAC; its peer stands in
//                         for the underlay. h2's and h3's tunnel IPs are
//                         permanent neighbours with fixed MACs, so the outer
//                         Ethernet header of an encapsulated frame is known.
//   eth1 / sw-eth1        the physnet1 uplink (VLAN network "vlan", VLAN 100)
//   eth2 / sw-eth2        the physnet2 uplink (flat network "flat")
//
// plus a freshly loaded datapath (own, unpinned maps) holding the state
// compiled for h1, with the tunnel interface found from tunnel_ip as the
// loader finds it. Used by test_overlay_encap.cpp, test_overlay_decap.cpp
// and test_malformed_corpus.cpp.
//
// Tunnel frames are built here with libtins (Ethernet, IPv4, UDP); libtins
// has no VXLAN or GRE class, so those headers are written byte by byte from
// RFC 7348 and RFC 2784/2890, not with the datapath's structs.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "frames.hpp"
#include "loader/datapath.hpp"

namespace nt_test {

inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr uint16_t kGreProtoTeb = 0x6558;
inline constexpr uint16_t kGreFlagKey = 0x2000;
inline constexpr uint32_t kVxlanFlagI = 0x08000000;
inline constexpr uint8_t kIpProtoGre = 47;

// Segmentation ids of packet-overlay.json's networks.
inline constexpr uint32_t kVni = 2002;     // VXLAN network "vx"
inline constexpr uint32_t kGreKey = 1001;  // GRE network "gre"
inline constexpr uint16_t kVlanId = 100;   // VLAN network "vlan" on physnet1

// The outer IPv4 header fields of a tunnel packet (and, for VXLAN, the
// UDP source port). Defaults are what Neutrino sends: DF, TTL 64, tos 0.
// Start from outer() below: it names the four fields every packet needs.
struct Outer {
    Mac src_mac, dst_mac;
    Ip src, dst;
    uint16_t ip_id = 0;
    uint8_t ttl = 64;
    bool dont_fragment = true;
    uint16_t frag_offset_units = 0;  // 8-byte units; nonzero = a later fragment
    bool more_fragments = false;
    uint16_t udp_sport = 49152;      // VXLAN only
};

Outer outer(const Mac& src_mac, const Mac& dst_mac, const Ip& src, const Ip& dst);

// VXLAN header: flags word, then VNI << 8 (RFC 7348).
Bytes vxlan_header(uint32_t vni, uint32_t flags = kVxlanFlagI);
// GRE header: flags/version, protocol, then the optional checksum, key and
// sequence words their flag bits announce (RFC 2784/2890); a key given for a
// header whose flags lack K is written anyway (a malformed header).
Bytes gre_header(uint16_t flags, uint16_t proto, std::optional<uint32_t> key);
// Ethernet + IPv4 (protocol ip_proto, checksum by libtins) + payload.
Bytes outer_ipv4(const Outer& o, uint8_t ip_proto, const Bytes& payload);
// Ethernet + IPv4 + UDP (to 4789, checksum 0 as Neutrino sends it; libtins
// always computes one, so it is cleared afterwards) + payload.
Bytes outer_udp(const Outer& o, uint16_t dport, const Bytes& payload);
// Complete tunnel packets around an inner Ethernet frame.
Bytes vxlan_packet(const Outer& o, uint32_t vni, const Bytes& inner);
Bytes gre_packet(const Outer& o, uint32_t key, const Bytes& inner);
// frame with an 802.1Q tag (TPID 0x8100) inserted after the MACs.
Bytes with_vlan_tag(const Bytes& frame, uint16_t vid);
Bytes concat(const Bytes& a, const Bytes& b);

// Sends frame out of ifname as is (an AF_PACKET socket): it arrives at the
// other end of the veth as if it came off a wire. send_frame returns 0 or
// the errno of send() (EINVAL: shorter than an Ethernet header; ENOBUFS: a
// program on the way out dropped it); inject throws instead.
int send_frame(const std::string& ifname, const Bytes& frame);
void inject(const std::string& ifname, const Bytes& frame);

class OverlayTest : public ::testing::Test {
protected:
    static constexpr const char* kStateFile = NT_FIXTURES "/packet-overlay.json";
    static constexpr const char* kHost = "h1";
    static constexpr const char* kTunnelIf = "vtep0";
    static constexpr const char* kTunnelPeer = "sw-vtep0";
    static constexpr const char* kPhys1 = "eth1";  // physnet1: VLAN network "vlan"
    static constexpr const char* kPhys1Peer = "sw-eth1";
    static constexpr const char* kPhys2 = "eth2";  // physnet2: flat network "flat"
    static constexpr const char* kPhys2Peer = "sw-eth2";

    static inline const Ip kVtep1{"192.0.2.1"};  // h1, this host
    static inline const Ip kVtep2{"192.0.2.2"};  // h2
    static inline const Ip kVtep3{"192.0.2.3"};  // h3
    static inline const Ip kStranger{"192.0.2.99"};  // on the tunnel subnet, in no host
    static inline const Mac kTunnelMac{"02:00:00:00:01:01"};  // vtep0's own
    static inline const Mac kVtep2Mac{"02:00:00:00:02:02"};   // neighbour entry of 192.0.2.2
    static inline const Mac kVtep3Mac{"02:00:00:00:02:03"};   // neighbour entry of 192.0.2.3
    static inline const Mac kStrangerMac{"02:00:00:00:02:99"};

    void SetUp() override;
    void TearDown() override;

    // Any port of the state: one bound to h1 has its tap, peer and ifindex;
    // a port of another host has only its name, MAC and IP.
    const TestPort& port(const std::string& name) const;
    uint32_t ifindex(const std::string& ifname) const;
    int prog_fd(const char* name) const { return dp_->prog_fd(name); }
    const neutrino::Datapath& datapath() const { return *dp_; }

    RunResult tap_ingress(const std::string& port_name, const Bytes& frame, bool trace);
    RunResult tap_egress(const std::string& port_name, const Bytes& frame, bool trace);
    RunResult uplink_tc(const std::string& ifname, const Bytes& frame, bool trace);
    RunResult uplink_xdp(const std::string& ifname, const Bytes& frame);

    uint64_t drop_packets(uint32_t reason) const { return nt_test::drop_packets(*dp_, reason); }
    uint64_t total_drop_packets() const { return nt_test::total_drop_packets(*dp_); }
    nt_port_stats port_stats(const std::string& name) const { return nt_test::port_stats(*dp_, port(name).port_tag); }
    nt_uplink_stats uplink_stats(const std::string& ifname) const;

    // Attaches a program of the datapath at a TC hook for real (cls_bpf;
    // removed with the interface in TearDown).
    void attach_tc(const char* prog, const std::string& ifname, bool ingress);

    // A tunnel packet from a remote host to h1, as the underlay delivers it
    // to vtep0 (outer Ethernet from that host's MAC to vtep0's), and one from
    // h1 to a remote host as h1 sends it.
    static Outer from_remote(const Ip& vtep, const Mac& vtep_mac);
    static Outer to_remote(const Ip& vtep, const Mac& vtep_mac);

private:
    neutrino::State state_;
    std::unique_ptr<neutrino::Datapath> dp_;
    std::map<std::string, TestPort> ports_;
    std::vector<std::string> links_;  // one end of each veth, deleted in TearDown
};

}  // namespace nt_test

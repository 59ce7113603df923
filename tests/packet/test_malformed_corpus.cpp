// A corpus of malformed frames run through every program with
// BPF_PROG_TEST_RUN: tap_ingress (a VM sends it), tap_egress (it is handed
// to a VM), uplink_ingress and uplink_xdp (it arrives from the underlay:
// bare on the tunnel interface and both physnet uplinks, and inside a valid
// VXLAN packet). The kernel refuses to test-run some frames (an IPv4/IPv6
// ethertype without a whole L3 header): those are sent for real instead,
// through the programs attached as the loader attaches them.
//
// For every run: a drop has a known reason, in the trace report and once in
// the counters; nothing is dropped without one. For garbage: a VM never
// gets it, whichever way it comes in (an uplink may hand a frame to the
// stack, which drops what it cannot parse, or to a tap, whose egress program
// must then refuse it).
//
// Two kinds of case: Frame cases are broken at the Ethernet/IP/L4/ARP
// level and are garbage everywhere. Tunnel cases are well-formed IP to this
// host's tunnel address with a broken tunnel layer: garbage on the tunnel
// interface only (to a VM, or on a flat network, they are just IP traffic).
// Frames that look odd but are valid (IP options, tunnels inside tunnels)
// are at the end, with exact expectations.
#include <cerrno>
#include <cstring>
#include <functional>
#include <system_error>

#include <tins/tcp.h>

#include "maps/drop_reasons.hpp"
#include "overlay_env.hpp"

namespace nt_test {
namespace {

// The addresses a case is built from (ports of packet-overlay.json).
struct Peers {
    TestPort a;   // vx-a, local: the sender of Frame cases
    TestPort a2;  // vx-a2, local: their destination (known unicast)
    TestPort b;   // vx-b, on h2
    Outer from_h2;  // outer headers of a tunnel packet from h2 to this host
};

enum class Layer { Frame, Tunnel };

struct Case {
    const char* name;
    Layer layer;
    std::function<Bytes(const Peers&)> build;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }  // gtest names the case, not its bytes

// ---- building broken frames ------------------------------------------------

constexpr size_t kEth = 14;  // IPv4 header offset in an untagged frame

Bytes truncated(Bytes f, size_t n) {
    f.resize(n);
    return f;
}

Bytes with_byte(Bytes f, size_t off, uint8_t v) {
    f.at(off) = v;
    return f;
}

Bytes with_be16(Bytes f, size_t off, uint16_t v) {
    f.at(off) = static_cast<uint8_t>(v >> 8);
    f.at(off + 1) = static_cast<uint8_t>(v);
    return f;
}

// Recomputes the IPv4 header checksum at ip_off over the header length the
// header claims (as far as the frame goes), so one case breaks one thing.
Bytes with_ipv4_checksum(Bytes f, size_t ip_off = kEth) {
    size_t len = std::min<size_t>((f.at(ip_off) & 0x0f) * 4u, f.size() - ip_off);
    f.at(ip_off + 10) = f.at(ip_off + 11) = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(f[ip_off + i] << 8 | f[ip_off + i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return with_be16(std::move(f), ip_off + 10, static_cast<uint16_t>(~sum));
}

// IPv4 from a to a2 carrying proto with exactly these L4 bytes (tot_len and
// checksum right).
Bytes ipv4_with(const Peers& p, uint8_t proto, const Bytes& l4) {
    Tins::IP ip(p.a2.ip, p.a.ip);
    ip.protocol(proto);
    return bytes(Tins::EthernetII(p.a2.mac, p.a.mac) / ip / Tins::RawPDU(l4));
}

Bytes valid_udp(const Peers& p) { return udp(p.a, p.a2); }

Bytes ethertype_frame(const Peers& p, uint16_t ethertype, const Bytes& payload) {
    Bytes f(p.a2.mac.begin(), p.a2.mac.end());
    f.insert(f.end(), p.a.mac.begin(), p.a.mac.end());
    f.push_back(static_cast<uint8_t>(ethertype >> 8));
    f.push_back(static_cast<uint8_t>(ethertype));
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

// The frame's payload behind two tags: outer_tpid/100, then 0x8100/200.
Bytes double_tagged(const Bytes& frame, uint16_t outer_tpid) {
    Bytes f = with_vlan_tag(with_vlan_tag(frame, 200), 100);
    return with_be16(std::move(f), 12, outer_tpid);
}

Bytes inner_udp(const Peers& p) { return udp(p.b, p.a); }
Bytes valid_vxlan(const Peers& p) { return vxlan_packet(p.from_h2, kVni, inner_udp(p)); }

Bytes gre_to_host(const Peers& p, const Bytes& gre) { return outer_ipv4(p.from_h2, kIpProtoGre, gre); }

const std::vector<Case>& corpus() {
    static const std::vector<Case> cases = {
        // Runts and Ethernet.
        {"runt_13_bytes", Layer::Frame, [](const Peers& p) { return truncated(valid_udp(p), 13); }},
        {"ethernet_header_only", Layer::Frame, [](const Peers& p) { return truncated(valid_udp(p), kEth); }},
        {"runt_20_bytes", Layer::Frame, [](const Peers& p) { return truncated(valid_udp(p), 20); }},
        // IPv4 headers.
        {"ipv4_header_truncated", Layer::Frame, [](const Peers& p) { return truncated(valid_udp(p), kEth + 19); }},
        {"ipv4_ihl_4", Layer::Frame,
         [](const Peers& p) { return with_ipv4_checksum(with_byte(valid_udp(p), kEth, 0x44)); }},
        {"ipv4_ihl_15_beyond_packet", Layer::Frame,
         [](const Peers& p) { return with_ipv4_checksum(with_byte(valid_udp(p), kEth, 0x4f)); }},
        {"ipv4_total_length_beyond_frame", Layer::Frame,
         [](const Peers& p) { return with_ipv4_checksum(with_be16(valid_udp(p), kEth + 2, 1400)); }},
        {"ipv4_total_length_below_header", Layer::Frame,
         [](const Peers& p) { return with_ipv4_checksum(with_be16(valid_udp(p), kEth + 2, 10)); }},
        {"ipv4_version_6", Layer::Frame,
         [](const Peers& p) { return with_ipv4_checksum(with_byte(valid_udp(p), kEth, 0x65)); }},
        // L4 headers.
        {"tcp_header_truncated", Layer::Frame,
         [](const Peers& p) { return ipv4_with(p, 6, truncated(bytes(Tins::TCP(80, 40000)), 8)); }},
        {"udp_header_truncated", Layer::Frame, [](const Peers& p) { return ipv4_with(p, 17, Bytes{0x9c, 0x40, 0}); }},
        {"tcp_data_offset_beyond_segment", Layer::Frame,
         [](const Peers& p) { return ipv4_with(p, 6, with_byte(bytes(Tins::TCP(80, 40000)), 12, 0xf0)); }},
        // ARP.
        {"arp_truncated", Layer::Frame,
         [](const Peers& p) { return truncated(arp_request(p.a, p.a2.ip), kEth + 20); }},
        {"arp_hardware_length_8", Layer::Frame,
         [](const Peers& p) { return with_byte(arp_request(p.a, p.a2.ip), kEth + 4, 8); }},
        // VLAN tags where none belong.
        {"vlan_tagged", Layer::Frame, [](const Peers& p) { return with_vlan_tag(valid_udp(p), 100); }},
        {"vlan_in_vlan", Layer::Frame, [](const Peers& p) { return double_tagged(valid_udp(p), 0x8100); }},
        {"qinq_8021ad", Layer::Frame, [](const Peers& p) { return double_tagged(valid_udp(p), 0x88a8); }},
        {"vlan_tag_truncated", Layer::Frame,
         [](const Peers& p) { return truncated(with_vlan_tag(valid_udp(p), 100), kEth + 2); }},
        // IPv6 and unknown ethertypes.
        {"ipv6_header_truncated", Layer::Frame,
         [](const Peers& p) { return ethertype_frame(p, 0x86dd, Bytes(20, 0x60)); }},
        {"unknown_ethertype", Layer::Frame, [](const Peers& p) { return ethertype_frame(p, 0x88b5, Bytes(46, 0)); }},

        // Tunnel layer: IPv4 to this host's tunnel address.
        {"vxlan_header_truncated", Layer::Tunnel,
         [](const Peers& p) { return outer_udp(p.from_h2, kVxlanPort, truncated(vxlan_header(kVni), 4)); }},
        {"vxlan_without_i_flag", Layer::Tunnel,
         [](const Peers& p) {
             return outer_udp(p.from_h2, kVxlanPort, concat(vxlan_header(kVni, 0), inner_udp(p)));
         }},
        {"vxlan_inner_ethernet_truncated", Layer::Tunnel,
         [](const Peers& p) { return vxlan_packet(p.from_h2, kVni, truncated(inner_udp(p), 10)); }},
        {"vxlan_inner_runt_20_bytes", Layer::Tunnel,
         [](const Peers& p) { return vxlan_packet(p.from_h2, kVni, truncated(inner_udp(p), 20)); }},
        {"udp_to_4789_truncated", Layer::Tunnel,
         [](const Peers& p) { return outer_ipv4(p.from_h2, 17, Bytes{0xc0, 0x00, 0x12, 0xb5}); }},
        {"gre_header_truncated", Layer::Tunnel,
         [](const Peers& p) { return gre_to_host(p, truncated(gre_header(kGreFlagKey, kGreProtoTeb, kGreKey), 2)); }},
        {"gre_key_missing", Layer::Tunnel,
         [](const Peers& p) { return gre_to_host(p, gre_header(kGreFlagKey, kGreProtoTeb, std::nullopt)); }},
        {"gre_version_1", Layer::Tunnel,
         [](const Peers& p) {
             return gre_to_host(p, concat(gre_header(kGreFlagKey | 1, kGreProtoTeb, kGreKey), inner_udp(p)));
         }},
        {"gre_routing_bit", Layer::Tunnel,
         [](const Peers& p) {
             return gre_to_host(p, concat(gre_header(kGreFlagKey | 0x4000, kGreProtoTeb, kGreKey), inner_udp(p)));
         }},
        {"gre_without_key_bit", Layer::Tunnel,
         [](const Peers& p) { return gre_to_host(p, concat(gre_header(0, kGreProtoTeb, kGreKey), inner_udp(p))); }},
        {"gre_carrying_ipv4_not_ethernet", Layer::Tunnel,
         [](const Peers& p) {
             return gre_to_host(p, concat(gre_header(kGreFlagKey, 0x0800, kGreKey), truncated(inner_udp(p), 62)));
         }},
        {"gre_checksum_bit_truncated", Layer::Tunnel,
         [](const Peers& p) {
             return gre_to_host(p, truncated(gre_header(0x8000 | kGreFlagKey, kGreProtoTeb, kGreKey), 6));
         }},
        {"outer_ipv4_ihl_4", Layer::Tunnel,
         [](const Peers& p) { return with_ipv4_checksum(with_byte(valid_vxlan(p), kEth, 0x44)); }},
        {"outer_ipv4_total_length_beyond_frame", Layer::Tunnel,
         [](const Peers& p) {
             return with_ipv4_checksum(with_be16(valid_vxlan(p), kEth + 2, 1400));
         }},
        {"outer_ipv4_bad_checksum", Layer::Tunnel,
         [](const Peers& p) {
             Bytes f = valid_vxlan(p);
             return with_byte(f, kEth + 10, static_cast<uint8_t>(f[kEth + 10] ^ 0xff));
         }},
        {"outer_ipv4_later_fragment", Layer::Tunnel,
         [](const Peers& p) {
             Outer o = p.from_h2;
             o.dont_fragment = false;
             o.frag_offset_units = 185;
             return vxlan_packet(o, kVni, inner_udp(p));
         }},
    };
    return cases;
}

// ---- running ---------------------------------------------------------------

// Where a frame comes in: the program that sees it first (test-run on
// ifname), and, for a frame the kernel refuses to test-run (IPv4/IPv6
// ethertype without a whole L3 header), where to send a real one instead.
struct Entry {
    std::string name;
    const char* prog;
    std::string ifname;
    bool ingress;           // the hook of prog on ifname
    std::string inject_at;  // sending here reaches that hook
};

class MalformedCorpus : public OverlayTest, public ::testing::WithParamInterface<Case> {
protected:
    static constexpr const char* kLocalPorts[] = {"vx-a", "vx-a2", "gre-a", "vlan-a", "flat-a"};

    Peers peers() const { return {port("vx-a"), port("vx-a2"), port("vx-b"), from_remote(kVtep2, kVtep2Mac)}; }

    std::vector<uint64_t> drop_counters() const {
        std::vector<uint64_t> v;
        for (uint32_t r = 0; r < NT_DROP_MAX; r++) v.push_back(drop_packets(r));
        return v;
    }

    // Real runs add exactly one drop under reason, or none (reason 0).
    static void expect_counted(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after,
                               uint32_t reason, const std::string& where) {
        for (uint32_t r = 0; r < NT_DROP_MAX; r++)
            EXPECT_EQ(after[r], before[r] + (r == reason && reason ? 1 : 0))
                << where << ": drop counter " << neutrino::drop_reason_name(r);
    }

    static bool known_reason(uint32_t r) { return r > 0 && r < NT_DROP_MAX; }

    // A TC program in trace mode, then for real: a drop is reported with a
    // known reason and counted once under it; TC_ACT_SHOT without a reason
    // is only a flood (the clones carry the frame). nullopt: the kernel
    // refused to test-run the frame.
    std::optional<RunResult> run_tc(const std::string& where, const char* prog, const Bytes& frame,
                                    uint32_t on_ifindex) {
        RunResult t;
        try {
            t = run(prog_fd(prog), frame, on_ifindex, true);
        } catch (const std::system_error& e) {
            if (e.code().value() != EINVAL) throw;
            log_.push_back(where + ": no test run for " + std::to_string(frame.size()) + " bytes");
            return std::nullopt;
        }
        if (t.cb.verdict == NT_VERDICT_DROP) {
            EXPECT_EQ(t.retval, kTcActShot) << where << ": " << describe(t);
            EXPECT_TRUE(known_reason(t.cb.reason)) << where << ": " << describe(t);
        } else if (t.retval == kTcActShot) {
            EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << where << ": dropped without a reason: " << describe(t);
        }
        auto before = drop_counters();
        RunResult r = run(prog_fd(prog), frame, on_ifindex, false);
        EXPECT_EQ(r.retval, t.retval) << where << ": trace and real runs disagree";
        expect_counted(before, drop_counters(), t.cb.verdict == NT_VERDICT_DROP ? t.cb.reason : 0, where);
        log_.push_back(where + ": " + describe(t));
        return t;
    }

    // uplink_xdp: XDP_DROP is counted once under a known reason, XDP_PASS
    // leaves the frame as it was and counts nothing.
    void run_xdp_on(const std::string& where, const std::string& ifname, const Bytes& frame) {
        auto before = drop_counters();
        RunResult x;
        try {
            x = uplink_xdp(ifname, frame);
        } catch (const std::system_error& e) {
            if (e.code().value() != EINVAL) throw;
            log_.push_back(where + ": no test run for " + std::to_string(frame.size()) + " bytes");
            return;
        }
        auto after = drop_counters();
        uint32_t reason = 0;
        for (uint32_t r = 0; r < NT_DROP_MAX; r++)
            if (after[r] != before[r]) reason = r;
        if (x.retval == kXdpDrop) {
            EXPECT_TRUE(known_reason(reason)) << where << ": XDP_DROP without a counted reason";
        } else {
            EXPECT_EQ(x.retval, kXdpPass) << where;
            EXPECT_TRUE(same_frame(x.out, frame)) << where << ": XDP_PASS must not touch the frame";
        }
        expect_counted(before, after, x.retval == kXdpDrop ? reason : 0, where);
        log_.push_back(where + ": XDP " + (x.retval == kXdpDrop ? "drop " : "pass ") +
                       (reason ? neutrino::drop_reason_name(reason) : ""));
    }

    // The VMs that would get what an uplink program decided: a redirect to a
    // tap or a flood, then that tap's egress program delivering it. nullopt:
    // a tap_egress run was refused (see above).
    std::optional<std::vector<std::string>> vms_reached(const std::string& where, const RunResult& t) {
        std::vector<std::string> reached;
        if (t.cb.verdict != NT_VERDICT_REDIRECT && t.cb.verdict != NT_VERDICT_FLOOD) return reached;
        for (const char* name : kLocalPorts) {
            const TestPort& p = port(name);
            if (t.cb.verdict == NT_VERDICT_REDIRECT && t.cb.target != p.ifindex) continue;
            auto e = run_tc(where + " -> tap_egress " + name, neutrino::kProgTapEgress, t.out, p.ifindex);
            if (!e) return std::nullopt;
            if (e->cb.verdict == NT_VERDICT_DELIVER) reached.push_back(name);
        }
        return reached;
    }

    // frame comes in at entry. garbage: no VM may get it, and a tap program
    // seeing it first must drop it itself.
    void check(const Entry& entry, const Bytes& frame, bool garbage) {
        if (entry.ifname == kTunnelIf) run_xdp_on("uplink_xdp on " + entry.ifname, entry.ifname, frame);
        auto t = run_tc(entry.name, entry.prog, frame, ifindex(entry.ifname));
        if (!t) return check_live(entry, frame, garbage);
        if (std::string(entry.prog) != neutrino::kProgUplinkIngress) {
            if (garbage && t->cb.verdict != NT_VERDICT_DROP)
                ADD_FAILURE() << entry.name << ": garbage not dropped: " << describe(*t);
            return;
        }
        auto reached = vms_reached(entry.name, *t);
        if (!reached) return check_live(entry, frame, garbage);
        if (garbage && !reached->empty())
            ADD_FAILURE() << entry.name << ": garbage delivered to " << reached->front() << " (" << describe(*t)
                          << ")";
    }

    // The same with real frames through programs attached as the loader
    // attaches them: nothing a VM must not get arrives at a VM's end, and
    // drops are counted under known reasons (a tap program that sees garbage
    // first drops it itself: exactly one drop).
    void check_live(const Entry& entry, const Bytes& frame, bool garbage) {
        if (!wired_) {
            for (const char* name : kLocalPorts) {
                attach_tc(neutrino::kProgTapIngress, port(name).tap, true);
                attach_tc(neutrino::kProgTapEgress, port(name).tap, false);
            }
            for (const char* uplink : {kTunnelIf, kPhys1, kPhys2})
                attach_tc(neutrino::kProgUplinkIngress, uplink, true);
            wired_ = true;
        }
        std::vector<std::pair<std::string, std::unique_ptr<Capture>>> caps;
        for (const char* name : kLocalPorts) caps.emplace_back(name, std::make_unique<Capture>(port(name).peer));
        for (const char* sw : {kTunnelPeer, kPhys1Peer, kPhys2Peer})
            caps.emplace_back(sw, std::make_unique<Capture>(sw));
        auto before = drop_counters();
        int err = send_frame(entry.inject_at, frame);
        if (err == EINVAL) {
            log_.push_back(entry.name + ": a frame of " + std::to_string(frame.size()) + " bytes cannot be sent");
            return;
        }
        // ENOBUFS: sent, and dropped on the way out (tap_egress).
        if (err && err != ENOBUFS) FAIL() << "send on " << entry.inject_at << ": " << std::strerror(err);
        auto until = Capture::Clock::now() + Capture::kWait;
        std::string arrived;
        for (auto& [name, cap] : caps) {
            if (name == entry.inject_at) continue;
            if (!cap->frames(until).empty()) arrived += " " + name;
        }
        auto after = drop_counters();
        uint64_t drops = 0;
        for (uint32_t r = 0; r < NT_DROP_MAX; r++) drops += after[r] - before[r];
        log_.push_back(entry.name + " (real frame): " + std::to_string(drops) + " drop(s), arrived at:" +
                       (arrived.empty() ? " nothing" : arrived));
        EXPECT_EQ(after[0], before[0]) << entry.name << ": a drop counted without a reason";
        if (!garbage) return;
        EXPECT_TRUE(arrived.empty()) << entry.name << ": garbage arrived at" << arrived;
        if (std::string(entry.prog) != neutrino::kProgUplinkIngress)
            EXPECT_EQ(drops, 1u) << entry.name << ": the tap program drops garbage, once";
        else
            EXPECT_LE(drops, 1u) << entry.name;
    }

    void TearDown() override {
        if (HasFailure())
            for (const auto& l : log_) std::fprintf(stderr, "  %s\n", l.c_str());
        OverlayTest::TearDown();
    }

    std::vector<std::string> log_;  // every decision, printed when the case fails
    bool wired_ = false;
};

TEST_P(MalformedCorpus, NoGarbageReachesAVmAndEveryDropHasAReason) {
    const Case& c = GetParam();
    const Peers p = peers();
    const Bytes frame = c.build(p);
    const bool frame_garbage = c.layer == Layer::Frame;
    // ARP is handed to a VM without being parsed, as Neutron does; the VM's
    // stack drops a broken one. A VM sending one is another matter.
    const bool arp = frame.size() >= 14 && frame[12] == 0x08 && frame[13] == 0x06;
    const bool to_vm_garbage = frame_garbage && !arp;

    const Entry from_vm{"tap_ingress from vx-a", neutrino::kProgTapIngress, p.a.tap, true, p.a.peer};
    const Entry to_vm{"tap_egress to vx-a", neutrino::kProgTapEgress, p.a.tap, false, p.a.tap};
    auto uplink = [](const char* ifname, const char* peer) {
        return Entry{std::string("uplink_ingress on ") + ifname, neutrino::kProgUplinkIngress, ifname, true, peer};
    };
    check(from_vm, frame, frame_garbage);
    check(to_vm, frame, to_vm_garbage);
    // From the underlay as it is: on the tunnel interface (Tunnel cases are
    // addressed to this host) and on the physnet uplinks (on eth2 every
    // untagged frame is the flat network's).
    check(uplink(kTunnelIf, kTunnelPeer), frame, to_vm_garbage || c.layer == Layer::Tunnel);
    check(uplink(kPhys1, kPhys1Peer), frame, to_vm_garbage);
    check(uplink(kPhys2, kPhys2Peer), frame, to_vm_garbage);
    // Frame cases inside a valid VXLAN packet from h2.
    if (frame_garbage) {
        Entry e = uplink(kTunnelIf, kTunnelPeer);
        e.name += " (inside VXLAN from h2)";
        check(e, vxlan_packet(p.from_h2, kVni, frame), to_vm_garbage);
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, MalformedCorpus, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// ---- odd but valid -----------------------------------------------------------

class OddButValid : public OverlayTest {};

TEST_F(OddButValid, IpOptionsAreForwardedUntouched) {
    // IHL 6 with a 4-byte option (NOP NOP NOP EOL) before the UDP header.
    const auto &a = port("vx-a"), &a2 = port("vx-a2");
    Tins::IP ip(a2.ip, a.ip);
    ip.add_option(Tins::IP::option(Tins::IP::option_identifier(Tins::IP::NOOP)));
    Bytes frame = bytes(Tins::EthernetII(a2.mac, a.mac) / ip / Tins::UDP(5001, 5000) / Tins::RawPDU("options"));
    ASSERT_EQ(frame[kEth] & 0x0f, 6) << "libtins pads the option list to 4 bytes";

    RunResult t = tap_ingress("vx-a", frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.target, a2.ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, frame));
    RunResult e = tap_egress("vx-a2", frame, true);
    EXPECT_EQ(e.cb.verdict, NT_VERDICT_DELIVER) << describe(e);

    // Across hosts too: encapsulated as it is, and decapsulated back.
    const auto& b = port("vx-b");
    Tins::IP ipb(b.ip, a.ip);
    ipb.add_option(Tins::IP::option(Tins::IP::option_identifier(Tins::IP::NOOP)));
    Bytes to_b = bytes(Tins::EthernetII(b.mac, a.mac) / ipb / Tins::UDP(5001, 5000) / Tins::RawPDU("options"));
    RunResult enc = tap_ingress("vx-a", to_b, true);
    EXPECT_EQ(enc.cb.target, ifindex(kTunnelIf)) << describe(enc);
    ASSERT_GT(enc.out.size(), 50u);
    EXPECT_TRUE(same_frame(Bytes(enc.out.begin() + 50, enc.out.end()), to_b)) << "the inner frame, untouched";
}

TEST_F(OddButValid, OuterIpOptionsOnATunnelPacketAreSkipped) {
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    Outer o = from_remote(kVtep2, kVtep2Mac);
    Tins::IP ip(o.dst, o.src);
    ip.add_option(Tins::IP::option(Tins::IP::option_identifier(Tins::IP::NOOP)));
    Bytes packet = bytes(Tins::EthernetII(o.dst_mac, o.src_mac) / ip / Tins::UDP(kVxlanPort, 49152) /
                         Tins::RawPDU(concat(vxlan_header(kVni), inner)));
    RunResult t = uplink_tc(kTunnelIf, packet, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.target, port("vx-a").ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, inner));
    EXPECT_EQ(uplink_xdp(kTunnelIf, packet).retval, kXdpPass);
}

TEST_F(OddButValid, VxlanInsideVxlanIsDecapsulatedOnce) {
    // A VM may run its own overlay: the inner frame is itself a VXLAN packet
    // (even one naming this host's own VNI). It is delivered as it is, never
    // decapsulated a second time.
    const auto &a = port("vx-a"), &b = port("vx-b");
    Bytes nested_inner = udp(port("vx-c"), a);
    Outer nested = outer(b.mac, a.mac, b.ip, a.ip);
    Bytes inner = vxlan_packet(nested, kVni, nested_inner);
    Bytes packet = vxlan_packet(from_remote(kVtep2, kVtep2Mac), kVni, inner);

    RunResult t = uplink_tc(kTunnelIf, packet, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.target, a.ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, inner)) << "one layer removed, not two";
    EXPECT_EQ(tap_egress("vx-a", t.out, true).cb.verdict, NT_VERDICT_DELIVER) << "UDP the security group allows";
}

TEST_F(OddButValid, GreInsideVxlanIsDecapsulatedOnce) {
    const auto &a = port("vx-a"), &b = port("vx-b");
    Bytes gre_inner = udp(port("gre-b"), port("gre-a"));
    Outer nested = outer(b.mac, a.mac, b.ip, a.ip);
    Bytes inner = outer_ipv4(nested, kIpProtoGre, concat(gre_header(kGreFlagKey, kGreProtoTeb, kGreKey), gre_inner));
    Bytes packet = vxlan_packet(from_remote(kVtep2, kVtep2Mac), kVni, inner);

    RunResult t = uplink_tc(kTunnelIf, packet, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.target, a.ifindex) << "vx-a, not gre-a: " << describe(t);
    EXPECT_TRUE(same_frame(t.out, inner));
}

TEST_F(OddButValid, TunnelPacketAVmSendsIsJustTraffic) {
    // A VM sending VXLAN to this host's tunnel address (its own addresses,
    // the tunnel endpoint's MAC) does not reach the uplink programs: it is
    // flooded in its own network like any unknown unicast.
    const auto& a = port("vx-a");
    Bytes inner = udp(port("vx-b"), port("vx-a2"));
    Outer o = outer(a.mac, kTunnelMac, a.ip, kVtep1);
    RunResult t = tap_ingress("vx-a", vxlan_packet(o, kVni, inner), true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << describe(t);
    ASSERT_GE(t.out.size(), inner.size());
    EXPECT_TRUE(same_frame(Bytes(t.out.end() - static_cast<long>(inner.size()), t.out.end()), inner))
        << "carried, not decapsulated";
}

}  // namespace
}  // namespace nt_test

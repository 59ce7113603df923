#include "overlay_env.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "loader/links.hpp"
#include "loader/tc_attach.hpp"
#include "maps/bpf_map.hpp"
#include "maps/entries.hpp"

namespace nt_test {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

void put32(Bytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}

neutrino::MacAddr mac_of(const Mac& m) {
    neutrino::MacAddr out;
    std::copy(m.begin(), m.end(), out.b.begin());
    return out;
}

neutrino::IpAddr ip_of(const Ip& ip) { return *neutrino::IpAddr::parse(ip.to_string()); }

// `ip neigh replace IP lladdr MAC nud permanent dev IFNAME`.
void add_permanent_neighbour(const std::string& ifname, const Ip& ip, const Mac& mac) {
    std::unique_ptr<nl_sock, void (*)(nl_sock*)> s(nl_socket_alloc(), nl_socket_free);
    if (!s || nl_connect(s.get(), NETLINK_ROUTE) < 0) throw std::runtime_error("netlink connect");
    std::unique_ptr<rtnl_neigh, void (*)(rtnl_neigh*)> n(rtnl_neigh_alloc(), rtnl_neigh_put);
    rtnl_neigh_set_ifindex(n.get(), static_cast<int>(if_nametoindex(ifname.c_str())));
    nl_addr *dst = nullptr, *ll = nullptr;
    if (nl_addr_parse(ip.to_string().c_str(), AF_INET, &dst) < 0) throw std::runtime_error("parse " + ip.to_string());
    auto m = mac_of(mac);
    ll = nl_addr_build(AF_LLC, m.b.data(), m.b.size());
    rtnl_neigh_set_dst(n.get(), dst);
    rtnl_neigh_set_lladdr(n.get(), ll);
    rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
    int err = rtnl_neigh_add(s.get(), n.get(), NLM_F_CREATE | NLM_F_REPLACE);
    nl_addr_put(dst);
    nl_addr_put(ll);
    if (err < 0)
        throw std::runtime_error("neighbour " + ip.to_string() + " on " + ifname + ": " + nl_geterror(err));
}

int packet_socket(const std::string& ifname) {
    unsigned idx = if_nametoindex(ifname.c_str());
    if (!idx) throw_errno("interface " + ifname);
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno("AF_PACKET socket for " + ifname);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(idx);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        throw_errno("bind AF_PACKET socket to " + ifname);
    }
    return fd;
}

}  // namespace

// ---- frames ----------------------------------------------------------------

Outer outer(const Mac& src_mac, const Mac& dst_mac, const Ip& src, const Ip& dst) {
    Outer o;
    o.src_mac = src_mac;
    o.dst_mac = dst_mac;
    o.src = src;
    o.dst = dst;
    return o;
}

Bytes vxlan_header(uint32_t vni, uint32_t flags) {
    Bytes b;
    put32(b, flags);
    put32(b, vni << 8);
    return b;
}

Bytes gre_header(uint16_t flags, uint16_t proto, std::optional<uint32_t> key) {
    Bytes b;
    put16(b, flags);
    put16(b, proto);
    if (flags & 0x8000) put32(b, 0);  // checksum + reserved (not checked by the receiver)
    if (key) put32(b, *key);
    if (flags & 0x1000) put32(b, 1);  // sequence number
    return b;
}

Bytes concat(const Bytes& a, const Bytes& b) {
    Bytes out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

namespace {

Tins::IP outer_ip(const Outer& o) {
    Tins::IP ip(o.dst, o.src);
    ip.id(o.ip_id);
    ip.ttl(o.ttl);
    ip.tos(0);
    uint16_t flags = (o.dont_fragment ? Tins::IP::DONT_FRAGMENT : 0) |
                     (o.more_fragments ? Tins::IP::MORE_FRAGMENTS : 0);
    ip.flags(static_cast<Tins::IP::Flags>(flags));
    ip.fragment_offset(o.frag_offset_units);
    return ip;
}

}  // namespace

Bytes outer_ipv4(const Outer& o, uint8_t ip_proto, const Bytes& payload) {
    Tins::IP ip = outer_ip(o);
    ip.protocol(ip_proto);  // kept: libtins sets it only for inner PDUs it knows
    return bytes(Tins::EthernetII(o.dst_mac, o.src_mac) / ip / Tins::RawPDU(payload));
}

Bytes outer_udp(const Outer& o, uint16_t dport, const Bytes& payload) {
    Bytes b = bytes(Tins::EthernetII(o.dst_mac, o.src_mac) / outer_ip(o) / Tins::UDP(dport, o.udp_sport) /
                    Tins::RawPDU(payload));
    const size_t csum = 14 + 20 + 6;
    b.at(csum) = b.at(csum + 1) = 0;
    return b;
}

Bytes vxlan_packet(const Outer& o, uint32_t vni, const Bytes& inner) {
    return outer_udp(o, kVxlanPort, concat(vxlan_header(vni), inner));
}

Bytes gre_packet(const Outer& o, uint32_t key, const Bytes& inner) {
    return outer_ipv4(o, kIpProtoGre, concat(gre_header(kGreFlagKey, kGreProtoTeb, key), inner));
}

Bytes with_vlan_tag(const Bytes& frame, uint16_t vid) {
    Bytes out(frame.begin(), frame.begin() + 12);
    put16(out, 0x8100);
    put16(out, vid);
    out.insert(out.end(), frame.begin() + 12, frame.end());
    return out;
}

// ---- interfaces ------------------------------------------------------------

int send_frame(const std::string& ifname, const Bytes& frame) {
    int fd = packet_socket(ifname);
    ssize_t n = send(fd, frame.data(), frame.size(), 0);
    int err = n < 0 ? errno : 0;
    close(fd);
    return err;
}

void inject(const std::string& ifname, const Bytes& frame) {
    if (int err = send_frame(ifname, frame)) {
        errno = err;
        throw_errno("send on " + ifname);
    }
}

// ---- environment -----------------------------------------------------------

void OverlayTest::SetUp() {
    state_ = neutrino::load_state_file(kStateFile);
    for (const auto& p : state_.ports) {
        TestPort tp;
        tp.name = p.name;
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), tp.mac.begin());
        ASSERT_EQ(p.fixed_ips.size(), 1u) << p.name;
        tp.ip = Ip(p.fixed_ips[0].ip_address.str());
        if (p.host_id == kHost) {
            ASSERT_EQ(p.interface_name.rfind("t-", 0), 0u) << p.interface_name;
            tp.tap = p.interface_name;
            tp.peer = "p-" + p.interface_name.substr(2);
            neutrino::create_veth(tp.tap, tp.peer, -1, p.mac_address);
            links_.push_back(tp.tap);
            neutrino::set_link_up(tp.tap);
            neutrino::set_link_up(tp.peer);
        }
        ports_[tp.name] = tp;
    }
    // The underlay: the peer is created first so vtep0 (the peer of the
    // pair) gets the fixed MAC.
    for (auto [here, there, mac] : {std::tuple{kTunnelPeer, kTunnelIf, std::optional(mac_of(kTunnelMac))},
                                    std::tuple{kPhys1Peer, kPhys1, std::optional<neutrino::MacAddr>()},
                                    std::tuple{kPhys2Peer, kPhys2, std::optional<neutrino::MacAddr>()}}) {
        neutrino::create_veth(here, there, -1, mac);
        links_.push_back(here);
        neutrino::set_link_up(here);
        neutrino::set_link_up(there);
    }
    neutrino::add_address(kTunnelIf, ip_of(kVtep1), 24);
    add_permanent_neighbour(kTunnelIf, kVtep2, kVtep2Mac);
    add_permanent_neighbour(kTunnelIf, kVtep3, kVtep3Mac);
    neutrino::enable_ipv4_forwarding(kTunnelIf);  // as the loader does: bpf_fib_lookup needs it

    dp_ = neutrino::Datapath::load(std::nullopt);
    neutrino::CompileInput in;
    in.host = kHost;
    in.ifindex_by_name = neutrino::list_interfaces();
    const auto* self = state_.find_host(kHost);
    ASSERT_TRUE(self && self->tunnel_ip);
    in.tunnel_interface = neutrino::interface_with_address(*self->tunnel_ip).value_or("");
    ASSERT_EQ(in.tunnel_interface, kTunnelIf) << "the loader finds the tunnel interface by its address";
    auto compiled = neutrino::compile(state_, in);
    ASSERT_TRUE(compiled.pending_ports.empty());
    for (const auto& lp : compiled.local_ports) {
        auto& tp = ports_.at(state_.find_port(lp.port_id)->name);
        tp.ifindex = lp.ifindex;
        tp.port_tag = lp.port_tag;
    }
    for (const auto& [name, tp] : ports_) {
        if (tp.tap.empty()) continue;
        ASSERT_NE(tp.ifindex, 0u) << name << " must be a local port";
    }
    ASSERT_EQ(compiled.entries.config.at(0).tunnel_ifindex, ifindex(kTunnelIf));
    apply_entries(*dp_, compiled.entries);
}

void OverlayTest::TearDown() {
    dp_.reset();
    for (const auto& name : links_) neutrino::delete_link(name);
    links_.clear();
}

const TestPort& OverlayTest::port(const std::string& name) const { return find_test_port(ports_, name, kStateFile); }

uint32_t OverlayTest::ifindex(const std::string& ifname) const {
    auto idx = neutrino::find_ifindex(ifname);
    if (!idx) throw std::out_of_range("no interface " + ifname);
    return *idx;
}

RunResult OverlayTest::tap_ingress(const std::string& port_name, const Bytes& frame, bool trace) {
    return run(dp_->tap_ingress_fd(), frame, port(port_name).ifindex, trace);
}

RunResult OverlayTest::tap_egress(const std::string& port_name, const Bytes& frame, bool trace) {
    return run(dp_->tap_egress_fd(), frame, port(port_name).ifindex, trace);
}

RunResult OverlayTest::uplink_tc(const std::string& ifname, const Bytes& frame, bool trace) {
    return run(prog_fd(neutrino::kProgUplinkIngress), frame, ifindex(ifname), trace);
}

RunResult OverlayTest::uplink_xdp(const std::string& ifname, const Bytes& frame) {
    return run_xdp(prog_fd(neutrino::kProgUplinkXdp), frame, ifindex(ifname));
}

nt_uplink_stats OverlayTest::uplink_stats(const std::string& ifname) const {
    neutrino::PerCpuBpfMap<__u32, nt_uplink_stats> m(dp_->map_fd("nt_uplink_stats"), "nt_uplink_stats");
    nt_uplink_stats s{};
    for (const auto& c : m.lookup(ifindex(ifname))) {
        s.encap = sum_counters({s.encap, c.encap});
        s.decap = sum_counters({s.decap, c.decap});
        s.dropped = sum_counters({s.dropped, c.dropped});
    }
    return s;
}

void OverlayTest::attach_tc(const char* prog, const std::string& ifname, bool ingress) {
    neutrino::TcAttacher tc(dp_->map_fd(neutrino::kMapAttachments), "", neutrino::TcMode::Cls);
    tc.ensure(prog_fd(prog), ifindex(ifname), ingress, ifname, "");
}

Outer OverlayTest::from_remote(const Ip& vtep, const Mac& vtep_mac) {
    Outer o = outer(vtep_mac, kTunnelMac, vtep, kVtep1);
    o.ip_id = 0x1234;
    return o;
}

Outer OverlayTest::to_remote(const Ip& vtep, const Mac& vtep_mac) {
    return outer(kTunnelMac, vtep_mac, kVtep1, vtep);
}

}  // namespace nt_test

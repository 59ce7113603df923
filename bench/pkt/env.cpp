#include "env.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "loader/links.hpp"
#include "maps/bpf_map.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/compile_dhcp.hpp"
#include "maps/diff.hpp"
#include "maps/entries.hpp"

namespace nt_bench {

namespace {

constexpr const char* kHost = "bench";

void add(nt_counter& to, const nt_counter& c) {
    to.packets += c.packets;
    to.bytes += c.bytes;
}

}  // namespace

uint64_t Counters::total_drops() const {
    uint64_t t = 0;
    for (auto d : drops) t += d;
    return t;
}

Env::Env(const std::string& state_file, const std::string& trivial_obj) {
    std::ifstream f(state_file);
    std::stringstream ss;
    ss << f.rdbuf();
    doc_ = base_doc_ = nlohmann::json::parse(ss.str());
    state_ = neutrino::load_state_text(ss.str(), state_file);
    for (const auto& p : state_.ports) {
        if (p.host_id != kHost) continue;
        if (p.interface_name.rfind("bt-", 0) != 0)
            throw std::runtime_error("bench taps are named bt-<name>: " + p.interface_name);
        BenchPort bp;
        bp.name = p.name;
        bp.tap = p.interface_name;
        bp.peer = "bp-" + p.interface_name.substr(3);
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), bp.mac.begin());
        if (p.fixed_ips.empty()) throw std::runtime_error("bench port without a fixed IP: " + p.name);
        bp.ip = Tins::IPv4Address(p.fixed_ips[0].ip_address.str());
        neutrino::create_veth(bp.tap, bp.peer, -1, p.mac_address);
        veths_.push_back(bp.tap);
        neutrino::set_link_up(bp.tap);
        neutrino::set_link_up(bp.peer);
        ports_[bp.name] = bp;
    }

    // The physnet uplinks (the external network's flat physnet for the NAT
    // rows): a veth per mapping, uplink_ingress runs on the bench end.
    if (const auto* self = state_.find_host(kHost)) {
        for (const auto& [physnet, ifname] : self->physical_interface_mappings) {
            if (ifname.rfind("bt-", 0) != 0) throw std::runtime_error("bench uplinks are named bt-<name>: " + ifname);
            const std::string peer = "bp-" + ifname.substr(3);
            neutrino::create_veth(ifname, peer, -1, std::nullopt);
            veths_.push_back(ifname);
            neutrino::set_link_up(ifname);
            neutrino::set_link_up(peer);
            physnets_[ifname] = neutrino::find_ifindex(ifname).value_or(0);
        }
    }

    // The tunnel endpoint: this host's tunnel_ip on a veth whose peer stands
    // for the underlay, the other host's address resolved to that peer (a
    // permanent neighbour: no ARP in a test run), IPv4 forwarding on as the
    // loader sets it (bpf_fib_lookup needs it).
    neutrino::create_veth(uplink_.name, uplink_.peer, -1, std::nullopt);
    veths_.push_back(uplink_.name);
    neutrino::set_link_up(uplink_.name);
    neutrino::set_link_up(uplink_.peer);
    neutrino::add_address(uplink_.name, *neutrino::IpAddr::parse(uplink_.ip.to_string()), 24);
    neutrino::enable_ipv4_forwarding(uplink_.name);
    auto mac_of = [](const std::string& dev) {
        return Tins::HWAddress<6>(neutrino::link_mac(dev).str());
    };
    uplink_.mac = mac_of(uplink_.name);
    uplink_.peer_mac = mac_of(uplink_.peer);
    uplink_.ifindex = neutrino::find_ifindex(uplink_.name).value_or(0);
    std::string neigh = "ip neigh replace " + uplink_.remote_ip.to_string() + " lladdr " +
                        uplink_.peer_mac.to_string() + " dev " + uplink_.name + " nud permanent";
    if (std::system(neigh.c_str()) != 0) throw std::runtime_error("failed: " + neigh);

    dp_ = neutrino::Datapath::load(std::nullopt);
    apply(doc_);

    trivial_obj_ = bpf_object__open_file(trivial_obj.c_str(), nullptr);
    if (!trivial_obj_) throw std::runtime_error("open " + trivial_obj);
    if (bpf_object__load(trivial_obj_) != 0) throw std::runtime_error("load " + trivial_obj);
    auto* prog = bpf_object__find_program_by_name(trivial_obj_, "trivial");
    if (!prog) throw std::runtime_error(trivial_obj + " has no program 'trivial'");
    trivial_fd_ = bpf_program__fd(prog);
}

Env::~Env() {
    if (trivial_obj_) bpf_object__close(trivial_obj_);
    dp_.reset();
    for (const auto& v : veths_) {
        try {
            neutrino::delete_link(v);
        } catch (...) {
        }
    }
}

void Env::apply(const nlohmann::json& doc) {
    state_ = neutrino::load_state_text(doc.dump(), "bench state");
    doc_ = doc;
    neutrino::CompileInput in;  // by field: the struct grows with the datapath
    in.host = kHost;
    in.ifindex_by_name = neutrino::list_interfaces();
    in.tunnel_interface = uplink_.name;
    auto compiled = neutrino::compile(state_, in);
    if (!compiled.pending_ports.empty()) throw std::runtime_error("bench state: a tap is missing");
    for (const auto& lp : compiled.local_ports) {
        const auto* p = state_.find_port(lp.port_id);
        auto& bp = ports_.at(p->name);
        bp.ifindex = lp.ifindex;
        bp.port_tag = lp.port_tag;
    }
    neutrino::BpfMapStore store(dp_->maps());
    store.apply(neutrino::diff(store.read_all(), compiled.entries));
    if (!(store.read_all() == compiled.entries))
        throw std::runtime_error("bench state: the maps do not hold the compiled entries");
}

std::vector<CtFlow> Env::ct_flows(uint32_t zone) const {
    neutrino::BpfMap<nt_ct_key, nt_ct_entry> ct(dp_->map_fd(neutrino::kMapCt), neutrino::kMapCt);
    std::vector<CtFlow> out;
    ct.for_each([&](const nt_ct_key& k, const nt_ct_entry& e) {
        if (k.zone == zone) out.push_back({k, e});
    });
    return out;
}

void Env::clear_ct() {
    neutrino::BpfMap<nt_ct_key, nt_ct_entry> ct(dp_->map_fd(neutrino::kMapCt), neutrino::kMapCt);
    std::vector<nt_ct_key> keys;
    ct.for_each([&](const nt_ct_key& k, const nt_ct_entry&) { keys.push_back(k); });
    for (const auto& k : keys) ct.erase(k);
}

uint32_t Env::physnet_ifindex(const std::string& ifname) const {
    auto it = physnets_.find(ifname);
    if (it == physnets_.end() || !it->second) throw std::out_of_range("no bench physnet uplink " + ifname);
    return it->second;
}

BenchPort Env::remote(const std::string& name) const {
    for (const auto& p : state_.ports) {
        if (p.name != name) continue;
        BenchPort bp;
        bp.name = p.name;
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), bp.mac.begin());
        bp.ip = Tins::IPv4Address(p.fixed_ips.at(0).ip_address.str());
        return bp;
    }
    throw std::out_of_range("no port named " + name + " in the bench state");
}

const BenchPort& Env::port(const std::string& name) const {
    auto it = ports_.find(name);
    if (it == ports_.end()) throw std::out_of_range("no bench port named " + name);
    return it->second;
}

Counters Env::counters() const {
    Counters c;
    neutrino::PerCpuBpfMap<__u32, nt_port_stats> ps(dp_->map_fd(neutrino::kMapPortStats),
                                                    neutrino::kMapPortStats);
    for (const auto& [name, p] : ports_) {
        nt_port_stats s{};
        for (const auto& cpu : ps.lookup(p.port_tag)) {
            add(s.from_vm, cpu.from_vm);
            add(s.to_vm, cpu.to_vm);
            add(s.arp_reply, cpu.arp_reply);
            add(s.flooded, cpu.flooded);
            add(s.dropped, cpu.dropped);
        }
        c.ports[name] = s;
    }
    neutrino::PerCpuBpfMap<__u32, nt_counter> ds(dp_->map_fd(neutrino::kMapDropStats),
                                                 neutrino::kMapDropStats);
    for (uint32_t r = 0; r < NT_DROP_MAX; r++)
        for (const auto& cpu : ds.lookup(r)) c.drops[r] += cpu.packets;
    neutrino::PerCpuBpfMap<__u32, nt_counter> rs(dp_->map_fd(neutrino::kMapRuleStats),
                                                 neutrino::kMapRuleStats);
    rs.for_each_key([&](__u32 tag) {
        for (const auto& cpu : rs.lookup(tag)) c.rule_hits += cpu.packets;
    });
    neutrino::PerCpuBpfMap<__u32, nt_uplink_stats> us(dp_->map_fd("nt_uplink_stats"), "nt_uplink_stats");
    for (const auto& cpu : us.lookup(uplink_.ifindex)) {
        c.encap += cpu.encap.packets;
        c.decap += cpu.decap.packets;
    }
    for (const auto& [name, idx] : physnets_)
        for (const auto& cpu : us.lookup(idx)) {
            c.ext_tx += cpu.encap.packets;
            c.ext_rx += cpu.decap.packets;
        }
    neutrino::BpfMap<nt_nat_key, nt_nat_entry> nat(dp_->map_fd(neutrino::kMapNat), neutrino::kMapNat);
    nat.for_each([&](const nt_nat_key&, const nt_nat_entry&) { c.nat_bindings++; });
    neutrino::BpfMap<__u32, nt_dhcp_stats> dh(dp_->map_fd(neutrino::kDhcpStatsMap), neutrino::kDhcpStatsMap);
    if (auto d = dh.lookup(NT_DHCP_STATS_ALL)) c.dhcp_offers = d->count[2];  // DHCP message type 2: OFFER
    return c;
}

Bytes udp_frame(const Tins::HWAddress<6>& src_mac, const Tins::HWAddress<6>& dst_mac,
                const Tins::IPv4Address& src, const Tins::IPv4Address& dst, size_t frame_len) {
    constexpr size_t kHeaders = 14 + 20 + 8;
    std::string payload(frame_len > kHeaders ? frame_len - kHeaders : 0, 'n');
    Tins::EthernetII f = Tins::EthernetII(dst_mac, src_mac) / Tins::IP(dst, src) / Tins::UDP(9000, 40000) /
                         Tins::RawPDU(payload);
    return f.serialize();
}

Bytes udp_frame(const BenchPort& from, const BenchPort& to, size_t frame_len) {
    return udp_frame(from.mac, to.mac, from.ip, to.ip, frame_len);
}

Bytes arp_request(const BenchPort& from, const Tins::IPv4Address& asked) {
    return Tins::ARP::make_arp_request(asked, from.ip, from.mac).serialize();
}

Bytes tunnel_frame(const BenchUplink& u, bool vxlan, uint32_t seg_id, const Bytes& inner) {
    Bytes f;
    auto put = [&f](std::initializer_list<int> bytes) {
        for (int b : bytes) f.push_back(static_cast<uint8_t>(b));
    };
    auto put16 = [&f](uint32_t v) {
        f.push_back(static_cast<uint8_t>(v >> 8));
        f.push_back(static_cast<uint8_t>(v));
    };
    auto put32 = [&](uint32_t v) {
        put16(v >> 16);
        put16(v & 0xffff);
    };
    f.insert(f.end(), u.mac.begin(), u.mac.end());            // to this host's uplink
    f.insert(f.end(), u.peer_mac.begin(), u.peer_mac.end());  // from the underlay
    put16(0x0800);
    size_t ip = f.size();
    uint32_t l4 = vxlan ? 8 + 8 : 8;  // UDP + VXLAN | GRE with key
    put16(0x4500);
    put16(static_cast<uint32_t>(20 + l4 + inner.size()));
    put({0x12, 0x34, 0x40, 0x00, 64, vxlan ? 17 : 47, 0, 0});
    for (const auto& a : {u.remote_ip, u.ip}) {
        in_addr n{};
        inet_pton(AF_INET, a.to_string().c_str(), &n);
        put32(ntohl(n.s_addr));
    }
    uint32_t sum = 0;
    for (size_t i = ip; i < ip + 20; i += 2) sum += (f[i] << 8) | f[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    f[ip + 10] = static_cast<uint8_t>(~sum >> 8);
    f[ip + 11] = static_cast<uint8_t>(~sum);
    if (vxlan) {
        put16(50000);
        put16(NT_VXLAN_PORT);
        put16(static_cast<uint32_t>(8 + 8 + inner.size()));
        put16(0);  // no UDP checksum, as RFC 7348 allows
        put32(0x08000000);
        put32(seg_id << 8);
    } else {
        put16(0x2000);  // K: a key follows
        put16(NT_GRE_PROTO_TEB);
        put32(seg_id);
    }
    f.insert(f.end(), inner.begin(), inner.end());
    return f;
}

int run_once(int prog_fd, const Bytes& frame, uint32_t ifindex) {
    __sk_buff ctx{};
    ctx.ifindex = ifindex;
    Bytes out(frame.size() + 512);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<uint32_t>(out.size());
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof ctx;
    opts.repeat = 1;
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
        throw std::system_error(errno, std::generic_category(), "BPF_PROG_TEST_RUN");
    return static_cast<int>(opts.retval);
}

Bytes tcp_frame(const BenchPort& from, const BenchPort& to, uint16_t sport, uint16_t dport, uint16_t flags,
                size_t payload) {
    Tins::TCP tcp(dport, sport);
    tcp.flags(flags);
    tcp.seq(1000);
    if (flags & Tins::TCP::ACK) tcp.ack_seq(2000);
    Tins::EthernetII f = Tins::EthernetII(to.mac, from.mac) / Tins::IP(to.ip, from.ip) / tcp;
    if (payload) f /= Tins::RawPDU(std::string(payload, 't'));
    return f.serialize();
}

}  // namespace nt_bench

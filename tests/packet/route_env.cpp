#include "route_env.hpp"

#include "loader/links.hpp"
#include "loader/tc_attach.hpp"
#include "maps/bpf_map.hpp"
#include "maps/entries.hpp"

namespace nt_test {

void RouteTest::SetUp() {
    state_ = neutrino::load_state_file(state_file());
    adjust_state(state_);
    for (const auto& p : state_.ports) {
        TestPort tp;
        tp.name = p.name;
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), tp.mac.begin());
        auto v4 = std::find_if(p.fixed_ips.begin(), p.fixed_ips.end(),
                               [](const neutrino::FixedIp& f) { return f.ip_address.is_v4(); });
        if (v4 != p.fixed_ips.end()) tp.ip = Ip(v4->ip_address.str());
        if (p.host_id == kHost) {
            tp.tap = p.interface_name;
            tp.peer = "p-" + p.interface_name.substr(2);
            neutrino::create_veth(tp.tap, tp.peer, -1, p.mac_address);
            links_.push_back(tp.tap);
            neutrino::set_link_up(tp.tap);
            neutrino::set_link_up(tp.peer);
        }
        ports_[tp.name] = tp;
    }
    if (const auto* self = state_.find_host(kHost)) {
        for (const auto& [physnet, ifname] : self->physical_interface_mappings) {
            neutrino::create_veth("sw-" + ifname, ifname, -1, std::nullopt);
            links_.push_back("sw-" + ifname);
            neutrino::set_link_up("sw-" + ifname);
            neutrino::set_link_up(ifname);
        }
    }
    neutrino::create_veth(kTunnelPeer, kTunnelIf, -1, std::nullopt);
    links_.push_back(kTunnelPeer);
    neutrino::set_link_up(kTunnelPeer);
    neutrino::set_link_up(kTunnelIf);
    neutrino::add_address(kTunnelIf, *neutrino::IpAddr::parse(kVtep1.to_string()), 24);
    neutrino::enable_ipv4_forwarding(kTunnelIf);  // as the loader does: bpf_fib_lookup needs it

    dp_ = neutrino::Datapath::load(std::nullopt);
    neutrino::CompileInput in;
    in.host = kHost;
    in.ifindex_by_name = neutrino::list_interfaces();
    in.tunnel_interface = kTunnelIf;
    auto compiled = neutrino::compile(state_, in);
    ASSERT_TRUE(compiled.pending_ports.empty()) << "every fixture tap exists, none may be pending";
    for (const auto& lp : compiled.local_ports) {
        auto& tp = ports_.at(state_.find_port(lp.port_id)->name);
        tp.ifindex = lp.ifindex;
        tp.port_tag = lp.port_tag;
    }
    tunnel_ifindex_ = neutrino::find_ifindex(kTunnelIf).value_or(0);
    ASSERT_NE(tunnel_ifindex_, 0u);
    ASSERT_EQ(compiled.entries.config.at(0).tunnel_ifindex, tunnel_ifindex_) << "the tunnel endpoint is vtep0";
    apply_entries(*dp_, compiled.entries);
}

void RouteTest::TearDown() {
    dp_.reset();
    for (const auto& name : links_) neutrino::delete_link(name);
    links_.clear();
}

const TestPort& RouteTest::port(const std::string& name) const { return find_test_port(ports_, name, state_file()); }

uint32_t RouteTest::ifindex(const std::string& ifname) const {
    auto idx = neutrino::find_ifindex(ifname);
    if (!idx) throw std::out_of_range("no interface " + ifname);
    return *idx;
}

RunResult RouteTest::uplink_ingress(const std::string& ifname, const Bytes& frame, bool trace) {
    return run(dp_->prog_fd(neutrino::kProgUplinkIngress), frame, ifindex(ifname), trace);
}

void RouteTest::attach_tc(const char* prog, const std::string& ifname, bool ingress) {
    neutrino::TcAttacher tc(dp_->map_fd(neutrino::kMapAttachments), "", neutrino::TcMode::Cls);
    tc.ensure(dp_->prog_fd(prog), ifindex(ifname), ingress, ifname, "");
}

RunResult RouteTest::ingress(const std::string& port_name, const Bytes& frame, bool trace) {
    const TestPort& p = port(port_name);
    if (!p.ifindex) throw std::invalid_argument(port_name + " has no tap on " + kHost);
    return run(dp_->tap_ingress_fd(), frame, p.ifindex, trace);
}

namespace {

template <class V>
size_t per_cpu_records(const neutrino::Datapath& dp, const char* map) {
    neutrino::PerCpuBpfMap<__u32, V> m(dp.map_fd(map), map);
    size_t n = 0;
    m.for_each_key([&](__u32) { n++; });
    return n;
}

}  // namespace

size_t RouteTest::counter_records() const {
    return per_cpu_records<nt_port_stats>(*dp_, neutrino::kMapPortStats) +
           per_cpu_records<nt_uplink_stats>(*dp_, "nt_uplink_stats");
}

size_t RouteTest::ct_entries() const {
    neutrino::BpfMap<nt_ct_key, nt_ct_entry> m(dp_->map_fd(neutrino::kMapCt), neutrino::kMapCt);
    size_t n = 0;
    m.for_each([&](const nt_ct_key&, const nt_ct_entry&) { n++; });
    return n;
}

}  // namespace nt_test

#include "loader/sandbox.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "loader/error.hpp"
#include "loader/links.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"

namespace neutrino {

namespace {

std::string label(const std::string& s) {
    std::string out;
    for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
    return out;
}

std::string vm_label(const Port& p) { return label(p.name.empty() ? p.id.substr(0, 8) : p.name); }

// A veth whose ends live in two namespaces, both up.
void veth_between(const std::string& ns_a, const std::string& name_a, const std::string& ns_b,
                  const std::string& name_b) {
    int fd_b = open_netns_fd(ns_b);
    try {
        NetnsGuard in_a(ns_a);
        create_veth(name_a, name_b, fd_b, std::nullopt);
        set_link_up(name_a);
    } catch (...) {
        close(fd_b);
        throw;
    }
    close(fd_b);
    NetnsGuard in_b(ns_b);
    set_link_up(name_b);
}

void build_vm(const State& state, const Port& port, const SandboxVm& vm, const std::string& host_ns) {
    create_netns(vm.netns);
    const Network* net = state.find_network(port.network_id);
    int vm_fd = open_netns_fd(vm.netns);
    try {
        NetnsGuard in_host(host_ns);
        create_veth(vm.tap, "eth0", vm_fd, port.mac_address);
        set_link_up(vm.tap);
    } catch (...) {
        close(vm_fd);
        throw;
    }
    close(vm_fd);
    NetnsGuard in_vm(vm.netns);
    set_link_up("lo");
    if (net) set_link_mtu("eth0", net->mtu);
    for (const auto& fip : port.fixed_ips) {
        const Subnet* sn = state.find_subnet(fip.subnet_id);
        add_address("eth0", fip.ip_address, sn ? sn->cidr.prefix : fip.ip_address.is_v4() ? 32 : 128);
    }
    set_link_up("eth0");
}

// The underlay: a bridge for the tunnel network, one per physnet.
void build_underlay(const State& state, const Sandbox& sb) {
    create_netns(sb.underlay_netns);
    {
        NetnsGuard u(sb.underlay_netns);
        set_link_up("lo");
    }
    std::map<std::string, int> physnets;
    for (const auto& h : state.hosts)
        for (const auto& [p, ifname] : h.physical_interface_mappings) physnets.emplace(p, 0);
    int j = 0;
    for (auto& [p, idx] : physnets) idx = j++;
    // Bridges are created with iproute2 inside the underlay: libnl's bridge
    // support is not needed anywhere else.
    auto run = [&](const std::string& cmd) {
        std::string full = "ip -n " + sb.underlay_netns + " " + cmd;
        if (std::system(full.c_str()) != 0) throw Error("sandbox underlay: `" + full + "` failed");
    };
    run("link add br-tun type bridge && ip -n " + sb.underlay_netns + " link set br-tun up");
    for (const auto& [p, idx] : physnets)
        run("link add br-p" + std::to_string(idx) + " type bridge && ip -n " + sb.underlay_netns + " link set br-p" +
            std::to_string(idx) + " up");
    int i = 0;
    for (const auto& h : sb.hosts) {
        const Host* host = state.find_host(h.name);
        if (!host) continue;
        if (host->tunnel_ip) {
            std::string peer = "t" + std::to_string(i);
            veth_between(h.netns, kSandboxTunnelInterface, sb.underlay_netns, peer);
            run("link set " + peer + " master br-tun");
            NetnsGuard in_host(h.netns);
            add_address(kSandboxTunnelInterface, *host->tunnel_ip, host->tunnel_ip->is_v4() ? 24 : 64);
        }
        for (const auto& [p, ifname] : host->physical_interface_mappings) {
            std::string peer = "p" + std::to_string(physnets[p]) + "h" + std::to_string(i);
            veth_between(h.netns, ifname, sb.underlay_netns, peer);
            run("link set " + peer + " master br-p" + std::to_string(physnets[p]));
        }
        i++;
    }
}

}  // namespace

std::vector<SandboxVm> Sandbox::all_vms() const {
    std::vector<SandboxVm> v;
    for (const auto& h : hosts) v.insert(v.end(), h.vms.begin(), h.vms.end());
    return v;
}

Sandbox plan_sandbox(const State& state, const std::string& prefix) {
    Sandbox sb;
    sb.prefix = prefix;
    std::vector<std::string> names;
    for (const auto& h : state.hosts) names.push_back(h.name);
    for (const auto& p : state.ports)
        if (p.is_vm_port() && !p.host_id.empty() && std::find(names.begin(), names.end(), p.host_id) == names.end())
            names.push_back(p.host_id);
    for (const auto& name : names) {
        SandboxHost h{name, "", "", {}};
        for (const auto& p : state.ports) {
            if (p.host_id != name || !p.is_vm_port()) continue;
            SandboxVm vm{p.id, p.name, prefix + "-" + vm_label(p), p.interface_name, p.network_id, {}};
            for (const auto& f : p.fixed_ips) vm.ips.push_back(f.ip_address);
            h.vms.push_back(vm);
        }
        if (!h.vms.empty()) sb.hosts.push_back(h);
    }
    const bool single = sb.hosts.size() == 1;
    for (auto& h : sb.hosts) {
        h.netns = single ? prefix + "-host" : prefix + "-" + label(h.name);
        h.instance = single ? prefix : prefix + "-" + label(h.name);
    }
    if (!single) sb.underlay_netns = prefix + "-underlay";
    return sb;
}

Sandbox sandbox_up(const State& state, const std::string& prefix) {
    Sandbox sb = plan_sandbox(state, prefix);
    try {
        for (const auto& h : sb.hosts) {
            create_netns(h.netns);
            NetnsGuard in_host(h.netns);
            set_link_up("lo");
        }
        if (!sb.underlay_netns.empty()) build_underlay(state, sb);
        for (const auto& h : sb.hosts)
            for (const auto& vm : h.vms) build_vm(state, *state.find_port(vm.port_id), vm, h.netns);
    } catch (...) {
        sandbox_down(sb);
        throw;
    }
    spdlog::info("sandbox {}: {} hosts, {} VMs", prefix, sb.hosts.size(), sb.all_vms().size());
    return sb;
}

void sandbox_down(const Sandbox& sb) {
    for (const auto& h : sb.hosts) {
        for (const auto& vm : h.vms) delete_netns(vm.netns);
        delete_netns(h.netns);
    }
    if (!sb.underlay_netns.empty()) delete_netns(sb.underlay_netns);
}

}  // namespace neutrino

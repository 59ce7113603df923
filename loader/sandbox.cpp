#include "loader/sandbox.hpp"

#include <unistd.h>

#include <cctype>

#include "loader/error.hpp"
#include "loader/links.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"

namespace neutrino {

namespace {

std::string vm_label(const Port& p) {
    std::string s;
    for (char c : p.name.empty() ? p.id.substr(0, 8) : p.name)
        s += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
    return s;
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

}  // namespace

Sandbox plan_sandbox(const State& state, const std::string& host, const std::string& prefix) {
    Sandbox sb;
    sb.host_netns = prefix + "-host";
    for (const auto& p : state.ports) {
        if (p.host_id != host || !p.is_vm_port()) continue;
        SandboxVm vm{p.id, prefix + "-" + vm_label(p), p.interface_name, p.network_id, {}};
        for (const auto& f : p.fixed_ips) vm.ips.push_back(f.ip_address);
        sb.vms.push_back(vm);
    }
    return sb;
}

Sandbox sandbox_up(const State& state, const std::string& host, const std::string& prefix) {
    Sandbox sb = plan_sandbox(state, host, prefix);
    try {
        create_netns(sb.host_netns);
        {
            NetnsGuard in_host(sb.host_netns);
            set_link_up("lo");
        }
        for (const auto& vm : sb.vms) build_vm(state, *state.find_port(vm.port_id), vm, sb.host_netns);
    } catch (...) {
        sandbox_down(sb);
        throw;
    }
    spdlog::info("sandbox {}: host namespace {} with {} VMs", prefix, sb.host_netns, sb.vms.size());
    return sb;
}

void sandbox_down(const Sandbox& sb) {
    for (const auto& vm : sb.vms) delete_netns(vm.netns);
    delete_netns(sb.host_netns);
}

}  // namespace neutrino

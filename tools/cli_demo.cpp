// `neutrino demo`: a sandbox from a desired state (examples/demo.json by
// default), every host wired through the BPF datapath, with no Linux bridge
// between VMs and no iptables rule. VMs on subnets with enable_dhcp get their
// addresses from the datapath's DHCP server, with a real client in each.
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "loader/log.hpp"
#include "loader/sandbox.hpp"
#include "loader/sandbox_probe.hpp"
#include "maps/compile_dhcp.hpp"
#include "maps/compile_router.hpp"
#include "tools/cli.hpp"
#include "tools/cli_router.hpp"

namespace neutrino::cli {

std::string default_demo_state() { return std::string(NEUTRINO_SOURCE_DIR) + "/examples/demo.json"; }

namespace {

InstanceOptions options_for(const Globals& g, const SandboxHost& h) {
    InstanceOptions o = g.instance_options();
    o.name = h.instance;
    o.netns = h.netns;
    return o;
}

bool ping(const std::string& netns, const IpAddr& ip) {
    std::string cmd = "ip netns exec " + netns + " ping -c 1 -W 1 -q " + ip.str() + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

void destroy_instances(const Globals& g, const Sandbox& sb) {
    for (const auto& h : sb.hosts) Instance(options_for(g, h)).destroy();
}

std::string address_of(const SandboxLease& l) { return l.ip.str() + "/" + std::to_string(l.prefix); }

}  // namespace

int demo_up(const Globals& g, const std::string& file, const std::string& prefix) {
    State st = load_state_file(file);
    Sandbox sb = sandbox_up(st, prefix);
    std::vector<ApplyResult> results;
    std::map<std::string, SandboxLease> leases;  // by VM namespace
    try {
        for (const auto& h : sb.hosts) results.push_back(Instance(options_for(g, h)).apply(st, h.name, false));
        // Now the datapath answers DHCP: the VMs configure themselves, as at boot.
        for (auto& l : sandbox_dhcp(sb)) leases.emplace(l.netns, l);
    } catch (...) {
        destroy_instances(g, sb);
        sandbox_down(sb);
        throw;
    }
    if (g.json()) {
        nlohmann::json hosts = nlohmann::json::array();
        for (size_t i = 0; i < sb.hosts.size(); i++) {
            const auto& h = sb.hosts[i];
            nlohmann::json vms = nlohmann::json::array();
            for (const auto& vm : h.vms) {
                nlohmann::json ips = nlohmann::json::array();
                for (const auto& ip : vm.ips) ips.push_back(ip.str());
                nlohmann::json dhcp = nullptr;
                if (auto it = leases.find(vm.netns); it != leases.end()) {
                    const SandboxLease& l = it->second;
                    dhcp = {{"address", address_of(l)},
                            {"router", l.router.empty() ? nlohmann::json(nullptr) : nlohmann::json(l.router)},
                            {"server", l.server}, {"mtu", l.mtu}, {"lease_seconds", l.lease_seconds}};
                }
                vms.push_back({{"name", vm.name}, {"netns", vm.netns}, {"tap", vm.tap}, {"port_id", vm.port_id},
                               {"network_id", vm.network_id}, {"ips", ips}, {"dhcp", dhcp}});
            }
            hosts.push_back({{"host", h.name}, {"netns", h.netns}, {"instance", h.instance}, {"vms", vms},
                             {"apply", to_json(results[i])}});
        }
        print_json({{"prefix", prefix}, {"underlay_netns", sb.underlay_netns},
                    {"outside_netns", sb.outside_netns.empty() ? nlohmann::json(nullptr) : nlohmann::json(sb.outside_netns)},
                    {"hosts", hosts}});
        return 0;
    }
    std::cout << "demo '" << prefix << "' is up: " << sb.hosts.size() << " host(s), " << sb.all_vms().size()
              << " VMs" << (sb.underlay_netns.empty() ? "" : ", underlay namespace " + sb.underlay_netns)
              << (sb.outside_netns.empty() ? "" : ", the outside in " + sb.outside_netns + " (" +
                                                      sb.outside_address.str() + ", " + kSandboxOutsideHost + ")")
              << "\n";
    TextTable t({"HOST", "INSTANCE", "VM NAMESPACE", "TAP", "NETWORK", "IPS"});
    for (const auto& h : sb.hosts)
        for (const auto& vm : h.vms) {
            std::string ips;
            for (const auto& ip : vm.ips)
                ips += (ips.empty() ? "" : ",") + ip.str() + (ip == vm.dhcp_ip ? " (DHCP)" : "");
            const Network* n = st.find_network(vm.network_id);
            t.add({h.name, h.instance, vm.netns, vm.tap,
                   n ? n->name + " (" + to_string(n->type) + ")" : vm.network_id, ips});
        }
    std::cout << t.str() << "\n";
    if (!leases.empty()) {
        std::cout << "addresses the VMs obtained by DHCP (udhcpc in each VM, answered by the datapath: "
                     "no DHCP server process, no qdhcp namespace):\n";
        TextTable d({"VM NAMESPACE", "ADDRESS", "ROUTER", "MTU", "LEASE", "SERVER"});
        for (const auto& vm : sb.all_vms())
            if (auto it = leases.find(vm.netns); it != leases.end()) {
                const SandboxLease& l = it->second;
                d.add({vm.netns, address_of(l), l.router.empty() ? "-" : l.router, l.mtu ? std::to_string(l.mtu) : "-",
                       l.lease_seconds == NT_DHCP_LEASE_INFINITE ? "infinite" : std::to_string(l.lease_seconds) + " s",
                       l.server});
            }
        std::cout << d.str() << "\n";
    }
    for (size_t i = 0; i < sb.hosts.size(); i++)
        std::cout << sb.hosts[i].name << ": " << to_text(results[i]).substr(0, to_text(results[i]).find('\n') + 1);
    auto vms = sb.all_vms();
    std::cout << "\nTry:\n";
    // A VM and another one of its network.
    for (const auto& b : vms)
        if (b.network_id == vms[0].network_id && b.port_id != vms[0].port_id && !b.ips.empty()) {
            std::cout << "  ip netns exec " << vms[0].netns << " ping -c 3 " << b.ips[0].str() << "\n";
            break;
        }
    if (vms[0].dhcp_ip) std::cout << "  ip netns exec " << vms[0].netns << " ip -4 addr show dev eth0\n";
    const std::string& inst = sb.hosts.front().instance;
    if (!sb.outside_netns.empty()) {
        std::cout << "  ip netns exec " << vms[0].netns << " ping -c 3 " << kSandboxOutsideHost
                  << "   # out through the router (SNAT or floating IP)\n";
        for (const auto& f : st.floatingips)
            if (f.port_id) {
                std::cout << "  ip netns exec " << sb.outside_netns << " ping -c 3 " << f.floating_ip_address.str()
                          << "   # in through a floating IP\n";
                break;
            }
        std::cout << "  neutrino --instance " << sb.hosts.front().instance << " nat list\n"
                  << "  neutrino --instance " << sb.hosts.front().instance << " fip list\n";
    }
    std::cout << "  neutrino --instance " << inst << " port list\n"
              << "  neutrino --instance " << inst << " fdb list\n"
              << "  neutrino --instance " << inst << " stats\n";
    if (vms[0].dhcp_ip) std::cout << "  neutrino --instance " << inst << " dhcp show " << vms[0].name << "\n";
    std::cout << "  neutrino demo down" << (prefix == "ntdemo" ? "" : " --prefix " + prefix)
              << (file == default_demo_state() ? "" : " --state " + file) << "\n";
    return 0;
}

int demo_down(const Globals& g, const std::string& file, const std::string& prefix) {
    Sandbox sb = plan_sandbox(load_state_file(file), prefix);
    destroy_instances(g, sb);
    sandbox_down(sb);
    if (!g.json()) std::cout << "demo '" << prefix << "' removed (namespaces, links, pins)\n";
    return 0;
}

// Whether a router joins the two networks (the VMs' default routes point at
// their subnet's gateway, from DHCP).
bool routed(const State& st, const std::string& a, const std::string& b) {
    std::map<std::string, std::set<std::string>> nets;  // router -> its networks
    for (const auto& p : st.ports)
        if (is_router_interface(p) && p.admin_state_up) nets[p.device_id].insert(p.network_id);
    for (const auto& [router, n] : nets)
        if (n.count(a) && n.count(b) && st.find_router(router)) return true;
    return false;
}

// North-south, from the state alone: the address the outside sees for a VM
// port (its floating IP, else its router's external address when the router
// SNATs), or nullopt when the port cannot reach the outside.
std::optional<IpAddr> outside_source(const State& st, const Port& port) {
    for (const auto& p : st.ports) {
        if (!is_router_interface(p) || !p.admin_state_up || p.network_id != port.network_id) continue;
        const Router* r = st.find_router(p.device_id);
        if (!r || !r->admin_state_up || !r->external_gateway_info) continue;
        for (const auto& f : st.floatingips)
            if (f.port_id == port.id && f.router_id == r->id) return f.floating_ip_address;
        const auto& gw = *r->external_gateway_info;
        if (gw.enable_snat && !gw.external_fixed_ips.empty()) return gw.external_fixed_ips.front().ip_address;
    }
    return std::nullopt;
}

// Whether the port's security groups admit a new IPv4 flow from the outside
// (any remote address) of this protocol (and TCP/UDP port).
bool admits_from_outside(const State& st, const Port& port, uint8_t proto, uint16_t dport) {
    if (!port.port_security_enabled) return true;
    for (const auto& id : port.security_groups) {
        const SecurityGroup* sg = st.find_security_group(id);
        if (!sg) continue;
        for (const auto& r : sg->rules) {
            bool remote_any = !r.remote_group_id && (!r.remote_ip_prefix || r.remote_ip_prefix->prefix == 0);
            bool ports = !r.port_range_min || proto == 1 ||
                         (dport >= *r.port_range_min && dport <= r.port_range_max.value_or(*r.port_range_min));
            if (r.direction == Direction::Ingress && r.ethertype == Ethertype::IPv4 && remote_any &&
                (!r.protocol || *r.protocol == proto) && ports)
                return true;
        }
    }
    return false;
}

constexpr uint16_t kOutsidePort = 7777;  // the demo's from-outside group admits it

std::string seen_text(const std::optional<SeenPeer>& seen) { return seen ? seen->str() : "-"; }

// VMs to the outside (SNAT or floating IP), then the outside to each
// floating IP (DNAT). Returns the number of unexpected results.
int north_south(const State& st, const Sandbox& sb) {
    const Network* ext = st.find_network(sb.outside_network_id);
    const IpAddr internet = *IpAddr::parse(kSandboxOutsideHost);
    std::cout << "\nnorth-south: " << sb.outside_netns << " is the outside on external network '" << ext->name
              << "' (its gateway, and " << internet.str()
              << " beyond it); each VM pings it and opens a TCP connection to it, and the server there prints "
                 "the source it sees:\n";
    int failures = 0;
    auto mark = [&](bool got, bool expect) {
        if (got != expect) failures++;
        return std::string(got ? "+" : ".") + (got != expect ? " (UNEXPECTED)" : "");
    };
    TextTable t({"VM NAMESPACE", "PING " + internet.str(), "OUTSIDE SEES", "EXPECTED"});
    uint16_t probe_port = kOutsidePort;
    for (const auto& vm : sb.all_vms()) {
        const Port* port = st.find_port(vm.port_id);
        auto expect = outside_source(st, *port);
        bool got = ping(vm.netns, internet);
        auto seen = tcp_peer_seen(vm.netns, internet, sb.outside_netns, probe_port++);
        bool right = expect ? seen && seen->ip == *expect : !seen;
        if (!right) failures++;
        bool fip = false;
        for (const auto& f : st.floatingips) fip |= f.port_id == port->id;
        t.add({vm.netns, mark(got, expect.has_value()), seen_text(seen) + (right ? "" : " (UNEXPECTED)"),
               expect ? expect->str() + (fip ? " (floating IP)" : " (SNAT)") : "- (no external router)"});
    }
    std::cout << t.str();
    bool any_fip = false;
    TextTable in({"FLOATING IP", "VM NAMESPACE", "PING FROM OUTSIDE", "TCP " + std::to_string(kOutsidePort),
                  "VM SEES"});
    for (const auto& f : st.floatingips) {
        if (!f.port_id) continue;
        const Port* port = st.find_port(*f.port_id);
        for (const auto& vm : sb.all_vms()) {
            if (vm.port_id != *f.port_id) continue;
            any_fip = true;
            bool got = ping(sb.outside_netns, f.floating_ip_address);
            auto seen = tcp_peer_seen(sb.outside_netns, f.floating_ip_address, vm.netns, kOutsidePort);
            // The VM sees the outside's own address: DNAT rewrites only the destination.
            bool expect = admits_from_outside(st, *port, 6, kOutsidePort);
            bool right = expect ? seen && seen->ip == sb.outside_address : !seen;
            if (!right) failures++;
            in.add({f.floating_ip_address.str(), vm.netns, mark(got, admits_from_outside(st, *port, 1, 0)),
                    mark(seen.has_value(), expect), seen_text(seen) + (right ? "" : " (UNEXPECTED)")});
            break;
        }
    }
    if (any_fip) std::cout << "\nthe outside reaches VMs through their floating IPs (DNAT):\n" << in.str();
    return failures;
}

// up -> ping matrix -> counters -> down. Exit 0 when every VM reaches exactly
// the addresses of its own network and of networks its router joins.
int demo_run(const Globals& g, const std::string& file, const std::string& prefix) {
    State st = load_state_file(file);
    Globals quiet = g;
    quiet.output = "text";
    demo_up(quiet, file, prefix);
    Sandbox sb = plan_sandbox(st, prefix);
    auto vms = sb.all_vms();
    int failures = 0;
    try {
        std::set<IpAddr> all_ips;
        for (const auto& vm : vms) all_ips.insert(vm.ips.begin(), vm.ips.end());
        std::cout << "\nping matrix (each VM pings every demo address; '+' = answered):\n";
        std::vector<std::string> header{"FROM \\ TO"};
        for (const auto& ip : all_ips) header.push_back(ip.str());
        TextTable t(header);
        for (const auto& a : vms) {
            std::vector<std::string> row{a.netns};
            for (const auto& ip : all_ips) {
                bool expect = false, own = false;
                for (const auto& b : vms)
                    for (const auto& bip : b.ips)
                        if (bip == ip) {
                            if (b.port_id == a.port_id) own = true;
                            else if (b.network_id == a.network_id || routed(st, a.network_id, b.network_id))
                                expect = true;
                        }
                if (own) {
                    row.push_back("self");
                    continue;
                }
                bool got = ping(a.netns, ip);
                if (got != expect) failures++;
                row.push_back(std::string(got ? "+" : ".") + (got != expect ? " (UNEXPECTED)" : ""));
            }
            t.add(row);
        }
        std::cout << t.str();
        if (!sb.outside_netns.empty()) failures += north_south(st, sb);
        for (const auto& h : sb.hosts) {
            Instance inst(options_for(g, h));
            std::cout << "\n" << h.name << " ports:\n" << ports_text(inst.ports()) << h.name << " drops:\n"
                      << drops_text(inst.drops(), false);
            if (auto nat = inst.nat(); !nat.empty()) std::cout << h.name << " SNAT bindings:\n" << nat_text(nat);
        }
    } catch (...) {
        demo_down(quiet, file, prefix);
        throw;
    }
    demo_down(quiet, file, prefix);
    std::cout << (failures ? "demo FAILED: " + std::to_string(failures) + " unexpected results\n"
                           : "demo OK: every VM reaches its own network, the networks its router joins, the outside through "
                             "its router (SNAT or its floating IP), and nothing else\n");
    return failures ? 1 : 0;
}

}  // namespace neutrino::cli

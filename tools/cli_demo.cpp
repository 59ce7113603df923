// `neutrino demo`: a sandbox host from examples/demo.json, wired through the
// BPF datapath, with no Linux bridge and no iptables rule.
#include <cstdlib>
#include <iostream>
#include <set>

#include "loader/log.hpp"
#include "loader/sandbox.hpp"
#include "tools/cli.hpp"

namespace neutrino::cli {

std::string default_demo_state() { return std::string(NEUTRINO_SOURCE_DIR) + "/examples/demo.json"; }

namespace {

struct Demo {
    State state;
    std::string host;
    InstanceOptions opts;
};

Demo prepare(const Globals& g, const std::string& file, const std::string& prefix) {
    Demo d{load_state_file(file), "", g.instance_options()};
    d.host = resolve_host(d.state, "");
    d.opts.name = prefix;
    d.opts.netns = prefix + "-host";
    return d;
}

bool ping(const std::string& netns, const IpAddr& ip) {
    std::string cmd = "ip netns exec " + netns + " ping -c 1 -W 1 -q " + ip.str() + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

}  // namespace

int demo_up(const Globals& g, const std::string& file, const std::string& prefix) {
    Demo d = prepare(g, file, prefix);
    Sandbox sb = sandbox_up(d.state, d.host, prefix);
    Instance inst(d.opts);
    ApplyResult r;
    try {
        r = inst.apply(d.state, d.host, false);
    } catch (...) {
        inst.destroy();
        sandbox_down(sb);
        throw;
    }
    if (g.json()) {
        nlohmann::json vms = nlohmann::json::array();
        for (const auto& vm : sb.vms) {
            nlohmann::json ips = nlohmann::json::array();
            for (const auto& ip : vm.ips) ips.push_back(ip.str());
            vms.push_back({{"netns", vm.netns}, {"tap", vm.tap}, {"port_id", vm.port_id},
                           {"network_id", vm.network_id}, {"ips", ips}});
        }
        print_json({{"instance", prefix}, {"host_netns", sb.host_netns}, {"vms", vms},
                    {"apply", to_json(r)}});
        return 0;
    }
    std::cout << "demo '" << prefix << "' is up: host namespace " << sb.host_netns << ", "
              << sb.vms.size() << " VMs\n";
    TextTable t({"VM NAMESPACE", "TAP", "NETWORK", "IPS"});
    for (const auto& vm : sb.vms) {
        std::string ips;
        for (const auto& ip : vm.ips) ips += (ips.empty() ? "" : ",") + ip.str();
        const Network* n = d.state.find_network(vm.network_id);
        t.add({vm.netns, vm.tap, n ? n->name : vm.network_id, ips});
    }
    std::cout << t.str() << "\n" << to_text(r) << "\nTry:\n";
    if (sb.vms.size() >= 2 && !sb.vms[1].ips.empty())
        std::cout << "  ip netns exec " << sb.vms[0].netns << " ping -c 3 " << sb.vms[1].ips[0].str() << "\n";
    std::cout << "  neutrino --instance " << prefix << " port list\n"
              << "  neutrino --instance " << prefix << " fdb list\n"
              << "  neutrino --instance " << prefix << " stats\n"
              << "  neutrino demo down" << (prefix == "ntdemo" ? "" : " --prefix " + prefix) << "\n";
    return 0;
}

int demo_down(const Globals& g, const std::string& file, const std::string& prefix) {
    Demo d = prepare(g, file, prefix);
    Instance(d.opts).destroy();
    sandbox_down(plan_sandbox(d.state, d.host, prefix));
    if (!g.json()) std::cout << "demo '" << prefix << "' removed (namespaces, links, pins)\n";
    return 0;
}

// up -> ping matrix -> counters -> down. Exit 0 when every VM reaches exactly
// the addresses its own network holds.
int demo_run(const Globals& g, const std::string& file, const std::string& prefix) {
    Demo d = prepare(g, file, prefix);
    Globals quiet = g;
    quiet.output = "text";
    demo_up(quiet, file, prefix);
    Sandbox sb = plan_sandbox(d.state, d.host, prefix);
    int failures = 0;
    try {
        std::set<IpAddr> all_ips;
        for (const auto& vm : sb.vms) all_ips.insert(vm.ips.begin(), vm.ips.end());
        std::cout << "\nping matrix (each VM pings every demo address; '+' = answered):\n";
        std::vector<std::string> header{"FROM \\ TO"};
        for (const auto& ip : all_ips) header.push_back(ip.str());
        TextTable t(header);
        for (const auto& a : sb.vms) {
            std::vector<std::string> row{a.netns};
            for (const auto& ip : all_ips) {
                bool expect = false, own = false;
                for (const auto& b : sb.vms)
                    for (const auto& bip : b.ips)
                        if (bip == ip) {
                            if (b.port_id == a.port_id) own = true;
                            else if (b.network_id == a.network_id) expect = true;
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
        std::cout << t.str() << "\n";
        Instance inst(d.opts);
        std::cout << "ports:\n" << ports_text(inst.ports()) << "\ndrops:\n" << drops_text(inst.drops(), false);
    } catch (...) {
        demo_down(quiet, file, prefix);
        throw;
    }
    demo_down(quiet, file, prefix);
    std::cout << (failures ? "demo FAILED: " + std::to_string(failures) + " unexpected results\n"
                           : "demo OK: every VM reaches its own network and nothing else\n");
    return failures ? 1 : 0;
}

}  // namespace neutrino::cli

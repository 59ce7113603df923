// neutrino: apply desired state to the BPF datapath and look inside it.
// Every command calls the library; errors become messages and exit codes here.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "tools/cli.hpp"
#include "tools/cli_dhcp.hpp"
#include "tools/cli_monitor.hpp"
#include "tools/cli_net.hpp"
#include "tools/cli_router.hpp"
#include "tools/cli_trace.hpp"
#include "tools/prometheus.hpp"

using namespace neutrino;
using namespace neutrino::cli;

namespace {

constexpr const char* kDescription =
    "Neutrino: an eBPF/XDP host dataplane for OpenStack Neutron networks.\n"
    "\n"
    "Desired state is a JSON file shaped like Neutron's API resources (hosts, networks,\n"
    "subnets, ports, security_groups, routers, floatingips). `apply` validates it whole,\n"
    "compiles it into BPF map entries for this host, writes only the difference to the\n"
    "live (pinned) maps and attaches the datapath to each local port's tap.";

constexpr const char* kFooter =
    "\nExamples:\n"
    "  neutrino demo run                         build a sandbox, ping through BPF, tear it down\n"
    "  neutrino apply state.json --host compute-1\n"
    "  neutrino diff state.json                  what apply would change, changing nothing\n"
    "  neutrino port list -o json\n"
    "  neutrino trace --from-port vm1 --dst 10.0.0.5 --proto tcp --dport 22\n"
    "  neutrino --instance h1 --netns h1-host status\n"
    "  neutrino destroy                          detach and unpin everything of the instance\n"
    "\nPins live under /sys/fs/bpf/neutrino/<instance>/abi<N>/. Exit codes: 0 ok,\n"
    "1 runtime error, 2 invalid input or usage.";

int print_apply(const Globals& g, const ApplyResult& r) {
    if (g.json())
        print_json(to_json(r));
    else
        std::cout << to_text(r);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{kDescription, "neutrino"};
    app.require_subcommand(1);
    app.fallthrough();  // inherited: global options may follow the subcommand
    Globals g;
    app.add_option("--instance", g.instance,
                   "Instance name: one pinned datapath per host (tests run several side by side)")
        ->capture_default_str();
    app.add_option("--netns", g.netns,
                   "Named network namespace that holds the taps (a simulated host); default: this one");
    app.add_option("-o,--output", g.output, "Output format")->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    app.add_option("--tc-mode", g.tc_mode,
                   "How to attach at TC: tcx links (kernel 6.6+), cls (clsact + cls_bpf), or auto")
        ->check(CLI::IsMember({"auto", "tcx", "cls"}))->capture_default_str();
    app.add_option("--bpffs", g.bpffs, "bpffs mount point (mounted when missing)")->capture_default_str();
    app.add_flag("-v,--verbose", g.verbose, "More log output; -vv includes libbpf and the verifier");

    std::string file, host;
    bool dry_run = false;
    auto* apply = app.add_subcommand("apply", "Validate FILE, write the minimal map diff, attach to local taps");
    apply->add_option("FILE", file, "Desired-state JSON (Neutron resources)")->required()->check(CLI::ExistingFile);
    apply->add_option("--host", host, "This host's name in the state (binding:host_id); default: hostname, or the only host");
    apply->add_flag("--dry-run", dry_run, "Show what would change; change nothing (same as `diff`)");
    apply->footer("Invalid input is rejected whole, naming the resource and JSON path; nothing is\n"
                  "half-applied. Applying the same state again writes nothing.");

    auto* diffc = app.add_subcommand("diff", "Show the map writes/deletes that `apply FILE` would perform");
    diffc->add_option("FILE", file, "Desired-state JSON")->required()->check(CLI::ExistingFile);
    diffc->add_option("--host", host, "This host's name in the state");

    auto* validate = app.add_subcommand("validate", "Check FILE and report every problem; touches nothing");
    validate->add_option("FILE", file, "Desired-state JSON")->required()->check(CLI::ExistingFile);

    auto* status = app.add_subcommand("status", "Pins, attachments and entry counts of the instance");
    std::string objects_dir;
    auto* upgrade = app.add_subcommand(
        "upgrade", "Replace the running programs with this build's, keeping maps, conntrack and hooks");
    upgrade->add_option("--objects", objects_dir,
                        "Load tap.bpf.o and uplink.bpf.o from this directory instead of the built-in ones")
        ->check(CLI::ExistingDirectory);
    upgrade->footer("Every hook is swapped atomically (tcx link update, cls_bpf replace, XDP replace): no\n"
                    "packet meets a missing program. Same programs: nothing changes. A map whose layout\n"
                    "differs from the pinned one is refused, naming it; run again after an interruption.");
    auto* destroy = app.add_subcommand("destroy", "Detach Neutrino's programs and remove every pin of the instance");

    auto* port = app.add_subcommand("port", "Ports wired on this host");
    port->require_subcommand(1);
    auto* port_list = port->add_subcommand("list", "Local ports: tap, network, MAC, IPs, counters");
    std::string port_ref;
    auto* port_show = port->add_subcommand("show", "One port with its effective policy: addresses it may use, rules");
    port_show->add_option("PORT", port_ref, "Port id (or its first 8+ characters), name, or tap name")->required();

    auto* sg = app.add_subcommand("sg", "Security groups as the datapath applies them");
    sg->require_subcommand(1);
    auto* sg_list = sg->add_subcommand("list", "Every rule of the groups on local ports, with flows admitted");
    std::string sg_ref;
    auto* sg_show = sg->add_subcommand("show", "The rules of one group, with flows admitted");
    sg_show->add_option("GROUP", sg_ref, "Security group id or name")->required();

    auto* ct = app.add_subcommand("ct", "Connection tracking (stateful security groups)");
    ct->require_subcommand(1);
    std::string ct_port, ct_addr;
    auto* ct_list = ct->add_subcommand("list", "Tracked connections, optionally of one port or address");
    ct_list->add_option("--port", ct_port, "Only this port (id, name or tap)");
    ct_list->add_option("--addr", ct_addr, "Only flows with this IP as source or destination");
    auto* ct_flush = ct->add_subcommand("flush", "Forget tracked connections (all, or one port's)");
    ct_flush->add_option("--port", ct_port, "Only this port (id, name or tap)");

    auto* fdb = app.add_subcommand("fdb", "The per-network forwarding database");
    fdb->require_subcommand(1);
    auto* fdb_list = fdb->add_subcommand("list", "MAC -> local tap (or remote VTEP) per network");

    auto* tunnel = app.add_subcommand("tunnel", "Overlays: this host's tunnel endpoint, remote hosts, uplink counters");
    tunnel->require_subcommand(1);
    auto* tunnel_list = tunnel->add_subcommand("list", "Remote VTEPs and per-uplink encap/decap/drop counters");

    bool all_reasons = false, prometheus = false;
    auto* stats = app.add_subcommand("stats", "Drop counters by reason (what was dropped and why)");
    stats->add_flag("--all", all_reasons, "List every reason, including those never hit");
    stats->add_flag("--prometheus", prometheus,
                    "Every counter (drops, ports, uplinks) in Prometheus text format, for node_exporter's "
                    "textfile collector; overrides -o");

    std::string demo_state = default_demo_state(), prefix = "ntdemo";
    auto* demo = app.add_subcommand("demo", "A built-in sandbox: VMs on three networks, two with overlapping IPs, one routed");
    demo->require_subcommand(1);
    demo->add_option("--state", demo_state, "Desired state of the sandbox")->capture_default_str();
    demo->add_option("--prefix", prefix, "Name prefix of its namespaces and its instance name")->capture_default_str();
    auto* demo_upc = demo->add_subcommand("up", "Create the namespaces and veth taps, apply the state");
    auto* demo_downc = demo->add_subcommand("down", "Remove the sandbox: instance pins and namespaces");
    auto* demo_runc = demo->add_subcommand("run", "up, the full ping matrix, counters, down; exit 1 on a surprise");
    demo->footer("\nThe host is a namespace (<prefix>-host) holding each port's tap; each VM is a namespace\n"
                 "(<prefix>-<port name>) whose eth0 is the tap's veth peer. No bridge, no iptables.");

    auto dhcp = add_dhcp_command(app);  // tools/cli_dhcp.cpp
    auto routing = add_router_commands(app);  // tools/cli_router.cpp
    auto l2 = add_net_commands(app);          // tools/cli_net.cpp
    auto trace = add_trace_command(app);  // tools/cli_trace.cpp
    auto monitor = add_monitor_command(app);  // tools/cli_monitor.cpp

    app.footer(kFooter);  // after the subcommands, which would inherit it
    CLI11_PARSE(app, argc, argv);
    init_logging(g.verbose);

    try {
        if (*validate) {
            State st = load_state_file(file);
            if (g.json())
                print_json({{"valid", true}, {"networks", st.networks.size()}, {"ports", st.ports.size()}});
            else
                std::cout << file << ": valid (" << st.networks.size() << " networks, " << st.subnets.size()
                          << " subnets, " << st.ports.size() << " ports)\n";
            return 0;
        }
        if (*demo) {
            // The prefix names namespaces and instances: an empty one would make "-host".
            if (!valid_instance_name(prefix))
                throw Error("invalid --prefix '" + prefix + "' (letters, digits, '_', '-'; at most 32 characters)");
            if (*demo_upc) return demo_up(g, demo_state, prefix);
            if (*demo_downc) return demo_down(g, demo_state, prefix);
            if (*demo_runc) return demo_run(g, demo_state, prefix);
        }
        if (geteuid() != 0)
            spdlog::warn("not running as root: BPF and netlink operations will likely fail");
        Instance inst(g.instance_options());
        if (dhcp->given()) return run_dhcp_command(g, *dhcp);
        if (routing->given()) return run_router_commands(g, *routing);
        if (l2->given()) return run_net_commands(g, *l2);
        if (trace->given()) return run_trace_command(g, *trace);
        if (monitor->given()) return run_monitor_command(g, *monitor);
        if (*apply || *diffc) {
            State st = load_state_file(file);
            return print_apply(g, inst.apply(st, host, dry_run || *diffc));
        }
        if (*upgrade) {
            auto r = inst.upgrade(objects_dir.empty() ? std::nullopt : std::optional<std::string>(objects_dir));
            if (g.json()) {
                nlohmann::json progs = nlohmann::json::array();
                for (const auto& p : r.programs)
                    progs.push_back({{"name", p.name}, {"old_tag", p.old_tag}, {"new_tag", p.new_tag}});
                print_json({{"programs", progs}, {"updated", r.updated}});
            } else {
                if (r.programs.empty()) std::cout << "programs unchanged (same build)\n";
                for (const auto& p : r.programs)
                    std::cout << "program " << p.name << ": " << p.old_tag << " -> " << p.new_tag << "\n";
                std::cout << r.updated.size() << " hooks updated\n";
            }
            return 0;
        }
        if (*destroy) {
            inst.destroy();
            if (!g.json()) std::cout << "instance '" << g.instance << "' destroyed\n";
            return 0;
        }
        if (*status) {
            if (!inst.exists()) {
                if (g.json()) print_json({{"instance", g.instance}, {"exists", false}});
                else std::cout << "instance '" << g.instance << "': nothing applied (no pins under "
                               << inst.pins().abi << ")\n";
                return 0;
            }
            MapEntries e = inst.entries();
            auto att = inst.attachments();
            auto gc = inst.ct_gc_stats();
            size_t flows = inst.conntrack().size();
            if (g.json()) {
                print_json({{"instance", g.instance},
                            {"exists", true},
                            {"pins", inst.pins().abi},
                            {"entries", {{"ports", e.ports.size()}, {"nets", e.nets.size()},
                                         {"fdb", e.fdb.size()}, {"flood", e.flood.size()},
                                         {"neigh", e.neigh.size()}, {"sg_remote", e.sg_remote.size()},
                                         {"sg_ports", e.sg_ports.size()}, {"addrs", e.addrs.size()}}},
                            {"conntrack", {{"entries", flows}, {"gc_runs", gc.runs}, {"gc_expired", gc.expired}}},
                            {"attachments", attachments_json(att)}});
            } else {
                std::cout << "instance '" << g.instance << "' pinned at " << inst.pins().abi << "\n"
                          << "entries: " << e.ports.size() << " ports, " << e.nets.size() << " networks, "
                          << e.fdb.size() << " fdb, " << e.flood.size() << " flood slots, " << e.neigh.size()
                          << " neighbours\n"
                          << "security groups: " << e.sg_ports.size() << " classifier entries, "
                          << e.sg_remote.size() << " remote prefixes, " << e.addrs.size() << " allowed addresses\n"
                          << "conntrack: " << flows << " entries, GC ran " << gc.runs << " times, expired "
                          << gc.expired << "\n\n"
                          << attachments_text(att);
            }
            return 0;
        }
        if (*port_list) {
            auto rows = inst.ports();
            if (g.json()) print_json(ports_json(rows));
            else std::cout << ports_text(rows);
            return 0;
        }
        if (*port_show) {
            auto d = inst.port_detail(port_ref);
            if (g.json()) print_json(port_detail_json(d));
            else std::cout << port_detail_text(d);
            return 0;
        }
        if (*sg_list || *sg_show) {
            auto rows = inst.rules();
            if (*sg_show) {
                std::erase_if(rows, [&](const RuleRow& r) { return r.sg_id != sg_ref && r.sg_name != sg_ref; });
                if (rows.empty()) throw Error("no security group '" + sg_ref + "' on a local port");
            }
            if (g.json()) print_json(rules_json(rows));
            else std::cout << rules_text(rows);
            return 0;
        }
        if (*ct_list || *ct_flush) {
            std::optional<uint32_t> zone;
            if (!ct_port.empty()) zone = inst.port_detail(ct_port).port.port_tag;
            if (*ct_flush) {
                size_t n = inst.ct_flush(zone);
                if (g.json()) print_json({{"flushed", n}});
                else std::cout << "flushed " << n << " tracked connections\n";
                return 0;
            }
            auto rows = inst.conntrack();
            std::optional<IpAddr> addr;
            if (!ct_addr.empty()) {
                addr = IpAddr::parse(ct_addr);
                if (!addr) throw Error("--addr: '" + ct_addr + "' is not an IP address");
            }
            std::erase_if(rows, [&](const CtRow& r) {
                return (zone && r.key.zone != *zone) || (addr && r.src != *addr && r.dst != *addr);
            });
            if (g.json()) print_json(ct_json(rows));
            else std::cout << ct_text(rows);
            return 0;
        }
        if (*tunnel_list) {
            auto t = inst.tunnels();
            if (g.json()) {
                nlohmann::json vteps = nlohmann::json::array(), ups = nlohmann::json::array();
                for (const auto& v : t.vteps) vteps.push_back({{"ip", v.str()}});
                for (const auto& u : t.uplinks)
                    ups.push_back({{"interface", u.ifname}, {"ifindex", u.ifindex},
                                   {"encap_packets", u.stats.encap.packets}, {"encap_bytes", u.stats.encap.bytes},
                                   {"decap_packets", u.stats.decap.packets}, {"decap_bytes", u.stats.decap.bytes},
                                   {"dropped_packets", u.stats.dropped.packets}});
                print_json({{"local", t.tunnel_ifindex ? t.local.str() : ""}, {"vteps", vteps}, {"uplinks", ups}});
            } else {
                std::cout << "local tunnel endpoint: " << (t.tunnel_ifindex ? t.local.str() : "none") << "\n";
                TextTable vt({"REMOTE VTEP"});
                for (const auto& v : t.vteps) vt.add({v.str()});
                TextTable ut({"UPLINK", "ENCAP-PKTS", "DECAP-PKTS", "DROPPED"});
                for (const auto& u : t.uplinks)
                    ut.add({u.ifname.empty() ? std::to_string(u.ifindex) : u.ifname,
                            std::to_string(u.stats.encap.packets), std::to_string(u.stats.decap.packets),
                            std::to_string(u.stats.dropped.packets)});
                std::cout << vt.str() << "\n" << ut.str();
            }
            return 0;
        }
        if (*fdb_list) {
            auto rows = inst.fdb();
            if (g.json()) print_json(fdb_json(rows));
            else std::cout << fdb_text(rows);
            return 0;
        }
        if (*stats) {
            auto rows = inst.drops();
            if (prometheus) std::cout << prometheus_text(rows, inst.ports(), inst.tunnels().uplinks);
            else if (g.json()) print_json(drops_json(rows));
            else std::cout << drops_text(rows, all_reasons);
            return 0;
        }
    } catch (const StateError& e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}

#include "tools/cli_trace.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "loader/error.hpp"

namespace neutrino::cli {

bool TraceCommand::given() const { return cmd && cmd->parsed(); }

std::unique_ptr<TraceCommand> add_trace_command(CLI::App& app) {
    auto c = std::make_unique<TraceCommand>();
    TraceRequest& r = c->req;
    c->cmd = app.add_subcommand("trace", "Run the real datapath programs on a crafted packet, stage by stage");
    auto* from = c->cmd->add_option_group("from", "Where the packet enters");
    from->add_option("--from-port", r.from_port, "A local port sends it (id, id prefix, name or tap)");
    from->add_option("--from-uplink", r.from_uplink,
                     "It arrives on this uplink: a flat provider network, or the tunnel interface (with "
                     "--outer-src and --network)");
    from->require_option(1);
    c->cmd->add_option("--dst", c->dst, "Destination IPv4 address")->required();
    c->cmd->add_option("--src", c->src, "Source address (default: the port's first fixed IP)");
    c->cmd->add_option("--proto", r.proto, "tcp, udp or icmp (echo request)")
        ->check(CLI::IsMember({"tcp", "udp", "icmp"}))->capture_default_str();
    c->cmd->add_option("--dport", r.dport, "Destination port");
    c->cmd->add_option("--sport", r.sport, "Source port (icmp: the echo identifier); default 40000");
    c->cmd->add_option("--tcp-flags", r.tcp_flags, "TCP flags, letters of FSRPAU")->capture_default_str();
    c->cmd->add_option("--ttl", r.ttl, "IP TTL (default 64)");
    c->cmd->add_option("--src-mac", c->src_mac, "Source MAC (default: the port's)");
    c->cmd->add_option("--dst-mac", c->dst_mac,
                       "Destination MAC (default: the neighbour on the same network, else its router)");
    c->cmd->add_option("--outer-src", c->outer_src, "--from-uplink on the tunnel interface: the sending VTEP");
    c->cmd->add_option("--network", r.network, "--from-uplink on the tunnel interface: the inner frame's network");
    c->cmd->add_option("--peer-instance", r.peer_instance,
                       "Another host's instance on this machine: follow a tunnelled packet into its uplink program");
    c->cmd->add_option("--peer-netns", r.peer_netns, "The netns of --peer-instance's interfaces (default with --netns: named like the peer instance)");
    c->cmd->footer(
        "\nThe programs run in trace mode (BPF_PROG_TEST_RUN with the trace magic in skb->cb): they\n"
        "read the live pinned maps and decide exactly as for a real packet, but write nothing: no\n"
        "conntrack entry, no NAT binding, no counter. Example:\n"
        "  neutrino trace --from-port vm1 --dst 10.0.0.5 --proto tcp --dport 22\n");
    return c;
}

int run_trace_command(const Globals& g, TraceCommand& c) {
    TraceRequest& r = c.req;
    auto ip = [](const std::string& s, const char* opt) {
        auto a = IpAddr::parse(s);
        if (!a) throw Error(std::string(opt) + ": '" + s + "' is not an IP address");
        return *a;
    };
    auto mac = [](const std::string& s, const char* opt) {
        auto m = MacAddr::parse(s);
        if (!m) throw Error(std::string(opt) + ": '" + s + "' is not a MAC address");
        return *m;
    };
    r.dst = ip(c.dst, "--dst");
    if (!c.src.empty()) r.src = ip(c.src, "--src");
    if (!c.outer_src.empty()) r.outer_src = ip(c.outer_src, "--outer-src");
    if (!c.src_mac.empty()) r.src_mac = mac(c.src_mac, "--src-mac");
    if (!c.dst_mac.empty()) r.dst_mac = mac(c.dst_mac, "--dst-mac");
    // Simulated hosts name their netns like their instance (demo, e2e).
    if (!r.peer_instance.empty() && r.peer_netns.empty() && !g.netns.empty()) r.peer_netns = r.peer_instance;
    TraceResult res = run_trace(g.instance_options(), r);
    if (g.json()) print_json(trace_json(res));
    else std::cout << trace_text(res);
    return 0;
}

}  // namespace neutrino::cli

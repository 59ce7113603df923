#include "loader/sandbox.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "loader/error.hpp"
#include "loader/links.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"
#include "maps/compile_dhcp.hpp"

extern char** environ;

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
    // With DHCP the MTU and the address come from the lease (sandbox_dhcp).
    if (net && !vm.dhcp_ip) set_link_mtu("eth0", net->mtu);
    for (const auto& fip : port.fixed_ips) {
        if (fip.ip_address == vm.dhcp_ip) continue;
        const Subnet* sn = state.find_subnet(fip.subnet_id);
        add_address("eth0", fip.ip_address, sn ? sn->cidr.prefix : fip.ip_address.is_v4() ? 32 : 128);
    }
    set_link_up("eth0");
}

const Subnet* outside_subnet(const State& state, const Network& n) {
    for (const auto& sn : state.subnets)
        if (sn.network_id == n.id && sn.ip_version == 4 && sn.gateway_ip) return &sn;
    return nullptr;
}

// The underlay: a bridge for the tunnel network (between several hosts),
// one per physnet, and the outside namespace on its physnet's bridge.
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
        if (host->tunnel_ip && sb.hosts.size() > 1) {
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
    if (sb.outside_netns.empty()) return;
    const Network* ext = state.find_network(sb.outside_network_id);
    const Subnet* sn = outside_subnet(state, *ext);
    create_netns(sb.outside_netns);
    veth_between(sb.outside_netns, kSandboxOutsideInterface, sb.underlay_netns, "out0");
    run("link set out0 master br-p" + std::to_string(physnets[*ext->physical_network]));
    NetnsGuard out(sb.outside_netns);
    set_link_up("lo");
    add_address(kSandboxOutsideInterface, *sn->gateway_ip, sn->cidr.prefix);
    add_address("lo", *IpAddr::parse(kSandboxOutsideHost), 32);
}

}  // namespace

const Network* sandbox_outside_network(const State& state) {
    std::set<std::string> mapped;  // physnets of hosts with VMs
    for (const auto& h : state.hosts)
        for (const auto& [p, ifname] : h.physical_interface_mappings) mapped.insert(p);
    for (const auto& n : state.networks)
        if (n.external && n.type == NetworkType::Flat && n.physical_network && mapped.count(*n.physical_network) &&
            outside_subnet(state, n))
            return &n;
    return nullptr;
}

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
            SandboxVm vm{p.id, p.name, prefix + "-" + vm_label(p), p.interface_name, p.network_id, {}, {}};
            for (const auto& f : p.fixed_ips) vm.ips.push_back(f.ip_address);
            vm.dhcp_ip = dhcp_address_of(state, p);
            h.vms.push_back(vm);
        }
        if (!h.vms.empty()) sb.hosts.push_back(h);
    }
    const bool single = sb.hosts.size() == 1;
    for (auto& h : sb.hosts) {
        h.netns = single ? prefix + "-host" : prefix + "-" + label(h.name);
        h.instance = single ? prefix : prefix + "-" + label(h.name);
    }
    bool physnets = false;
    for (const auto& h : state.hosts)
        for (const auto& sh : sb.hosts)
            if (sh.name == h.name && !h.physical_interface_mappings.empty()) physnets = true;
    if (!single || physnets) sb.underlay_netns = prefix + "-underlay";
    if (const Network* ext = sandbox_outside_network(state); ext && !sb.underlay_netns.empty()) {
        sb.outside_netns = prefix + "-ext";
        sb.outside_network_id = ext->id;
        sb.outside_address = *outside_subnet(state, *ext)->gateway_ip;
    }
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
    if (!sb.outside_netns.empty()) delete_netns(sb.outside_netns);
    if (!sb.underlay_netns.empty()) delete_netns(sb.underlay_netns);
}

// ---- DHCP clients in the VMs -----------------------------------------------------

namespace {

// udhcpc calls this with deconfig, bound, renew, leasefail or nak and the
// lease in its environment. It configures the VM's interface only (never
// /etc/resolv.conf, which is the host's) and records what it applied in
// $NT_LEASE_FILE. The address carries the lease as its lifetime: the client
// exits once bound, so nothing renews it.
constexpr const char* kUdhcpcScript = R"(#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
set -e
case "$1" in
deconfig)   # eth0 holds no DHCP address yet; static ones (other subnets) stay
  ip link set dev "$interface" up ;;
bound|renew)
  [ -z "$mtu" ] || ip link set dev "$interface" mtu "$mtu"
  ip addr replace "$ip/$mask" broadcast "${broadcast:-+}" dev "$interface" \
    valid_lft "${lease:-forever}" preferred_lft "${lease:-forever}"
  if [ -n "$staticroutes" ]; then   # RFC 3442: option 121 replaces the router option
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface"
      else ip route replace "$1" via "$2" dev "$interface"; fi
      shift 2
    done
  elif [ -n "$router" ]; then
    set -- $router
    ip route replace default via "$1" dev "$interface"
  fi
  printf 'ip=%s\nmask=%s\nrouter=%s\nmtu=%s\nlease=%s\nserver=%s\n' \
    "$ip" "$mask" "$router" "$mtu" "$lease" "$serverid" >"$NT_LEASE_FILE.new"
  mv "$NT_LEASE_FILE.new" "$NT_LEASE_FILE" ;;
esac
)";

std::optional<std::string> find_executable(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(std::string(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin") +
                           ":/usr/sbin:/sbin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty()) continue;
        std::string p = dir + "/" + name;
        if (access(p.c_str(), X_OK) == 0) return p;
    }
    return std::nullopt;
}

// udhcpc, or the applet of a busybox binary: the program and its first args.
std::vector<std::string> udhcpc_command() {
    if (auto p = find_executable("udhcpc")) return {*p};
    if (auto p = find_executable("busybox")) return {*p, "udhcpc"};
    throw Error("the demo's VMs get their addresses by DHCP, but no DHCP client was found: udhcpc is not in PATH "
                "(Debian package udhcpc; tools/setup.sh installs it)");
}

// A directory of its own for the script, the logs and the lease files,
// removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "neutrino-dhcp-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw_errno("mkdtemp " + tmpl, errno);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// The clients this process started, each in a process group of its own; the
// destructor kills and reaps whichever is still running, so none outlives
// sandbox_dhcp.
class Clients {
public:
    struct Child {
        pid_t pid = -1;
        int status = -1;  // from waitpid once it exited
    };
    ~Clients() {
        for (auto& c : children_)
            if (c.pid > 0 && c.status == -1) {
                kill(-c.pid, SIGKILL);
                waitpid(c.pid, &c.status, 0);
            }
    }
    // Forks; the child, still in the calling thread's network namespace,
    // writes to `log` and execs argv with env.
    size_t start(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log) {
        std::vector<char*> av, ev;
        for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
        for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
        av.push_back(nullptr);
        ev.push_back(nullptr);
        int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log_fd < 0) throw_errno("open " + log, errno);
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid_t pid = fork();
        if (pid == 0) {  // only async-signal-safe calls from here on
            setpgid(0, 0);
            if (null_fd >= 0) dup2(null_fd, 0);
            dup2(log_fd, 1);
            dup2(log_fd, 2);
            syscall(SYS_close_range, 3u, ~0u, 0u);  // no BPF or netlink fd reaches the client
            execve(av[0], av.data(), ev.data());
            _exit(127);
        }
        const int err = errno;
        close(log_fd);
        if (null_fd >= 0) close(null_fd);
        if (pid < 0) throw_errno("fork " + argv[0], err);
        setpgid(pid, pid);  // as the child does: no race over who is first
        children_.push_back({pid, -1});
        return children_.size() - 1;
    }
    // Waits until every client exited or the deadline passed; kills the rest.
    void wait_all(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            bool running = false;
            for (auto& c : children_) {
                if (c.status != -1) continue;
                int st = 0;
                pid_t r = waitpid(c.pid, &st, WNOHANG);
                if (r == 0)
                    running = true;
                else
                    c.status = r == c.pid ? st : -3;  // -3: lost (not ours to wait for)
            }
            if (!running) return;
            if (std::chrono::steady_clock::now() >= deadline) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        for (auto& c : children_)
            if (c.status == -1) {
                kill(-c.pid, SIGKILL);
                waitpid(c.pid, &c.status, 0);
                c.status = -2;  // killed at the deadline
            }
    }
    const Child& operator[](size_t i) const { return children_[i]; }

private:
    std::vector<Child> children_;
};

std::map<std::string, std::string> read_key_values(const std::string& path) {
    std::map<std::string, std::string> kv;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    return kv;
}

// The last lines of a client's log, for the error message.
std::string log_tail(const std::string& path, size_t lines) {
    std::ifstream in(path);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    std::string s;
    for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); i++) s += "\n    " + all[i];
    return s;
}

uint64_t number_or_zero(const std::string& s) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(s.c_str(), &end, 10);
    return end && *end == 0 ? n : 0;
}

}  // namespace

std::vector<SandboxLease> sandbox_dhcp(const Sandbox& sb, std::chrono::seconds timeout) {
    std::vector<SandboxVm> vms;
    for (const auto& vm : sb.all_vms())
        if (vm.dhcp_ip) vms.push_back(vm);
    if (vms.empty()) return {};
    const std::vector<std::string> client = udhcpc_command();
    TempDir dir;
    const std::string script = dir.file("udhcpc.script");
    {
        std::ofstream out(script);
        out << kUdhcpcScript;
        if (!out.flush()) throw Error("write " + script);
    }
    if (chmod(script.c_str(), 0700) != 0) throw_errno("chmod " + script, errno);

    std::vector<std::string> env;
    for (char** e = environ; e && *e; e++)
        if (std::string(*e).rfind("NT_LEASE_FILE=", 0) != 0) env.push_back(*e);
    const auto started = std::chrono::steady_clock::now();
    Clients clients;
    for (const auto& vm : vms) {
        // -f foreground, -q quit once bound, -n give up without a lease,
        // -t 5 DISCOVERs, -T 1 s apart.
        std::vector<std::string> argv = client;
        for (const char* a : {"-f", "-q", "-n", "-t", "5", "-T", "1", "-i", "eth0", "-s"}) argv.push_back(a);
        argv.push_back(script);
        std::vector<std::string> vm_env = env;
        vm_env.push_back("NT_LEASE_FILE=" + dir.file(vm.netns + ".lease"));
        NetnsGuard in_vm(vm.netns);
        clients.start(argv, vm_env, dir.file(vm.netns + ".log"));
    }
    clients.wait_all(started + timeout);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::vector<SandboxLease> leases;
    std::string problems;
    for (size_t i = 0; i < vms.size(); i++) {
        const SandboxVm& vm = vms[i];
        auto kv = read_key_values(dir.file(vm.netns + ".lease"));
        auto ip = IpAddr::parse(kv["ip"]);
        const std::string want = vm.dhcp_ip->str();
        if (!ip) {
            const int st = clients[i].status;
            std::string how = st == -2       ? "killed, still running after " + std::to_string(timeout.count()) + " s"
                              : st < 0         ? "udhcpc was lost"
                              : WIFEXITED(st)  ? "udhcpc exit " + std::to_string(WEXITSTATUS(st))
                                               : "udhcpc killed by signal " + std::to_string(WTERMSIG(st));
            problems += "\n  " + vm.netns + " (port " + vm.name + "): no DHCP lease for " + want + " (" + how +
                        "); its client said:" + log_tail(dir.file(vm.netns + ".log"), 4);
            continue;
        }
        if (*ip != *vm.dhcp_ip) {
            problems += "\n  " + vm.netns + " (port " + vm.name + "): DHCP gave " + ip->str() + ", not its port's " +
                        want;
            continue;
        }
        leases.push_back({vm.netns, *ip, static_cast<int>(number_or_zero(kv["mask"])), kv["router"], kv["server"],
                          static_cast<uint32_t>(number_or_zero(kv["mtu"])), number_or_zero(kv["lease"])});
    }
    if (!problems.empty())
        throw Error("sandbox " + sb.prefix + ": DHCP failed for " + std::to_string(vms.size() - leases.size()) +
                    " of " + std::to_string(vms.size()) + " VMs (the sandbox sets no static address instead):" + problems);
    spdlog::info("sandbox {}: {} VMs got their addresses by DHCP in {:.1f} s", sb.prefix, leases.size(), secs);
    return leases;
}

}  // namespace neutrino

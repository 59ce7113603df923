#include "loader/instance.hpp"

#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "loader/arp_probe.hpp"
#include "loader/datapath.hpp"
#include "loader/error.hpp"
#include "loader/links.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"
#include "loader/xdp_attach.hpp"
#include "maps/bpf_map_store.hpp"

namespace neutrino {

namespace {

std::string hook_name(const std::string& ifname, bool ingress) {
    return ifname + (ingress ? " ingress" : " egress");
}

// The name of a loaded program (what says which role an attached program
// plays), "" when it is gone.
std::string prog_name_of_id(uint32_t id) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) return "";
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    int err = bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    return err ? "" : std::string(info.name, strnlen(info.name, sizeof info.name));
}

std::string hex(const std::array<uint8_t, 8>& tag) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (uint8_t b : tag) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// Whether a directory holds anything but (empty) directories.
bool holds_pins(const std::filesystem::path& dir) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (!it->is_directory()) return true;
    return false;
}

}  // namespace

std::string resolve_host(const State& state, const std::string& requested) {
    if (!requested.empty()) {
        if (!state.hosts.empty() && !state.find_host(requested))
            throw Error("host '" + requested + "' is not in the state's hosts");
        return requested;
    }
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) == 0 && state.find_host(buf)) return buf;
    if (state.hosts.size() == 1) return state.hosts[0].name;
    std::string names;
    for (const auto& h : state.hosts) names += (names.empty() ? "" : ", ") + h.name;
    throw Error("which host is this? pass --host (the state has: " +
                (names.empty() ? std::string("no hosts") : names) + ")");
}

Instance::Instance(InstanceOptions opts)
    : opts_(std::move(opts)), pins_(PinPaths::for_instance(opts_.name, opts_.bpffs)) {
    if (!valid_instance_name(opts_.name))
        throw Error("invalid instance name '" + opts_.name +
                    "' (letters, digits, '_', '-'; at most 32 characters)");
}

Instance::~Instance() = default;

void Instance::require_exists() const {
    if (!exists())
        throw Error("instance '" + opts_.name + "' has no pinned datapath under " + pins_.abi +
                    " (nothing applied yet? run `neutrino apply FILE`)");
}

std::vector<std::string> Instance::other_abi_pins() const {
    std::vector<std::string> out;
    std::error_code ec;
    const std::string mine = std::filesystem::path(pins_.abi).filename().string();
    for (const auto& e : std::filesystem::directory_iterator(pins_.root, ec)) {
        const std::string name = e.path().filename().string();
        if (name != mine && name.starts_with("abi") && holds_pins(e.path())) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void Instance::check_abi() const {
    auto other = other_abi_pins();
    if (other.empty()) return;
    const std::string dir = other.front();
    const std::string version = std::filesystem::path(dir).filename().string().substr(3);
    throw Error("instance '" + opts_.name + "' has a datapath of ABI version " + version + " pinned under " + dir +
                ", made by another build of Neutrino; this build uses ABI version " +
                std::to_string(NT_ABI_VERSION) +
                " and cannot take over its maps (there is no migration from ABI " + version +
                "). Keep using the build of ABI " + version +
                ", or move the workloads off this host, run `neutrino --instance " + opts_.name +
                " destroy` with that build, and apply again with this one");
}

// The programs' pins are written last, after the maps and the GC timer: a
// first apply killed half-way leaves no complete set of them, and the next
// apply loads again, reusing whatever maps were already pinned.
Datapath& Instance::datapath(bool create) const {
    if (dp_) return *dp_;
    if (!create) require_exists();
    if (Datapath::complete_pins(pins_)) {
        dp_ = Datapath::open_pinned(pins_);
    } else {
        if (!create)
            throw Error("instance '" + opts_.name + "' under " + pins_.abi +
                        " is incomplete (its first apply was interrupted): run `neutrino apply` again");
        ensure_bpffs_mounted(opts_.bpffs);
        pins_.create();
        dp_ = Datapath::load(pins_.maps);
        dp_->arm_ct_gc();
        dp_->pin_programs(pins_);
        spdlog::info("loaded and pinned the datapath under {}", pins_.abi);
    }
    return *dp_;
}

ApplyResult Instance::apply(const State& state, const std::string& host, bool dry_run) {
    ApplyResult r;
    r.dry_run = dry_run;
    r.host = resolve_host(state, host);

    CompileInput in{r.host, {}, ""};
    const Host* self = state.find_host(r.host);
    {
        NetnsGuard ns(opts_.netns);
        in.ifindex_by_name = list_interfaces();
        if (self && self->tunnel_ip) {
            if (auto ifname = interface_with_address(*self->tunnel_ip)) in.tunnel_interface = *ifname;
            else
                spdlog::warn("host {}: no interface{} holds tunnel_ip {}; VXLAN/GRE networks stay on this host",
                             r.host, opts_.netns.empty() ? "" : " in netns " + opts_.netns, self->tunnel_ip->str());
        }
    }
    CompileResult c = compile(state, in);
    r.ports = c.local_ports;
    r.pending = c.pending_ports;
    for (const auto& p : c.pending_ports)
        spdlog::warn("port {}: interface {} not found{}; it is wired when it appears and apply runs again",
                     p.port_id, p.interface_name, opts_.netns.empty() ? "" : " in netns " + opts_.netns);

    check_abi();
    if (dry_run && !exists()) {
        r.plan = diff(MapEntries{}, c.entries);
        return r;
    }
    Datapath& dp = datapath(!dry_run);
    BpfMapStore store(dp.maps());
    r.plan = diff(store.read_all(), c.entries);

    // Uplinks: the tunnel interface (XDP pre-filter + TC decap) and the
    // physnet uplinks of provider networks with local ports (TC).
    std::map<uint32_t, std::string> names;
    for (const auto& [name, idx] : in.ifindex_by_name) names[idx] = name;
    std::set<uint32_t> tc_uplinks, xdp_uplinks;
    const uint32_t tun_ifindex = c.entries.config.count(0) ? c.entries.config.at(0).tunnel_ifindex : 0;
    for (const auto& [k, net] : c.entries.nets)
        if (net.uplink) tc_uplinks.insert(net.uplink);
    if (tun_ifindex) {
        tc_uplinks.insert(tun_ifindex);
        xdp_uplinks.insert(tun_ifindex);
    }

    TcAttacher attacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode);
    XdpAttacher xdp(dp.map_fd(kMapAttachments));
    std::set<std::pair<uint32_t, bool>> wanted;
    for (const auto& p : c.local_ports) {
        wanted.insert({p.ifindex, true});
        wanted.insert({p.ifindex, false});
    }
    for (uint32_t u : tc_uplinks) wanted.insert({u, true});
    std::vector<TcAttachment> stale;
    for (const auto& a : attacher.list())
        if (!wanted.count({a.ifindex, a.ingress}) || a.netns != opts_.netns) stale.push_back(a);
    std::vector<XdpAttachment> stale_xdp;
    for (const auto& a : xdp.list())
        if (!xdp_uplinks.count(a.ifindex) || a.netns != opts_.netns) stale_xdp.push_back(a);
    if (dry_run) {
        for (const auto& a : stale) r.detached.push_back(hook_name(a.ifname, a.ingress));
        for (const auto& a : stale_xdp) r.detached.push_back(a.ifname + " xdp");
        return r;
    }

    // Detach what leaves first, then the map writes (leaves first, deletes
    // last), then hook up new taps and uplinks, whose entries now exist.
    for (const auto& a : stale) {
        attacher.detach(a);
        r.detached.push_back(hook_name(a.ifname, a.ingress));
    }
    for (const auto& a : stale_xdp) {
        xdp.detach(a);
        r.detached.push_back(a.ifname + " xdp");
    }
    store.apply(r.plan);
    {
        NetnsGuard ns(opts_.netns);
        for (const auto& p : c.local_ports) {
            if (attacher.ensure(dp.tap_ingress_fd(), p.ifindex, true, p.interface_name, opts_.netns))
                r.attached.push_back(hook_name(p.interface_name, true));
            if (attacher.ensure(dp.tap_egress_fd(), p.ifindex, false, p.interface_name, opts_.netns))
                r.attached.push_back(hook_name(p.interface_name, false));
        }
        for (uint32_t u : tc_uplinks)
            if (attacher.ensure(dp.prog_fd(kProgUplinkIngress), u, true, names[u], opts_.netns))
                r.attached.push_back(hook_name(names[u], true));
        for (uint32_t u : xdp_uplinks)
            if (xdp.ensure(dp.prog_fd(kProgUplinkXdp), u, names[u], opts_.netns))
                r.attached.push_back(names[u] + " xdp");
        // bpf_fib_lookup, which finds the tunnel next hop, refuses to work on
        // an interface without IPv4 forwarding.
        if (!in.tunnel_interface.empty() && enable_ipv4_forwarding(in.tunnel_interface))
            spdlog::info("enabled IPv4 forwarding on tunnel interface {} (needed by bpf_fib_lookup)",
                         in.tunnel_interface);
        // Resolve the next hop of every remote host now, not on the first packet.
        if (!in.tunnel_interface.empty())
            for (const auto& [k, v] : c.entries.vteps) {
                IpAddr a;
                std::copy(k.ip.b, k.ip.b + 16, a.b.begin());
                prime_neighbour(in.tunnel_interface, a);
            }
        // And the external gateways: the uplink program learns the reply.
        for (const auto& hop : c.external_next_hops) try {
                send_arp_request(hop.interface, hop.vlan, hop.mac, hop.source, hop.target);
            } catch (const Error& e) {
                spdlog::warn("could not resolve external next hop {} on {}: {}", hop.target.str(), hop.interface,
                             e.what());
            }
    }
    // Counters of ports that left the state go with them.
    std::set<uint32_t> tags;
    for (const auto& p : c.local_ports) tags.insert(p.port_tag);
    PerCpuBpfMap<__u32, nt_port_stats> stats(dp.map_fd(kMapPortStats), kMapPortStats);
    std::vector<__u32> gone;
    stats.for_each_key([&](__u32 tag) {
        if (!tags.count(tag)) gone.push_back(tag);
    });
    for (auto tag : gone) stats.erase(tag);
    return r;
}

// Replaces the programs of the running datapath with this build's (or those
// in objects_dir), keeping every map, pin and hook:
//   1. load the new objects onto the pinned maps (refused, naming the map, if
//      a map's layout differs);
//   2. if any program's tag differs from the pinned one: pin the new
//      programs over the old pins (an apply from now on uses them) and
//      move the conntrack GC timer to the new code;
//   3. swap every hook to the program of the same name, each atomically:
//      BPF_LINK_UPDATE for tcx links, a replace of the same cls_bpf filter,
//      an XDP replace.
// Run again after a kill at any point, it finishes the job: step 3 compares
// every hook with the pinned programs, whether step 2 ran now or before.
UpgradeResult Instance::upgrade(const std::optional<std::string>& objects_dir) {
    check_abi();
    require_exists();
    UpgradeResult r;
    Datapath& pinned = datapath(false);
    std::unique_ptr<Datapath> fresh = Datapath::load(pins_.maps, objects_dir);
    for (const auto& name : Datapath::program_names()) {
        ProgIdentity was = pinned.identity(name), now = fresh->identity(name);
        if (was.tag != now.tag) r.programs.push_back({name, hex(was.tag), hex(now.tag)});
    }
    if (!r.programs.empty()) {
        fresh->pin_programs(pins_);
        fresh->arm_ct_gc();
        dp_ = std::move(fresh);
        spdlog::info("pinned {} new programs under {}", r.programs.size(), pins_.progs);
    }
    Datapath& dp = *dp_;

    TcAttacher attacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode);
    for (const auto& a : attacher.list()) {
        const std::string name = prog_name_of_id(a.prog_id);
        if (name.empty()) {
            spdlog::warn("{}: its recorded program {} is gone; `neutrino apply` attaches it again",
                         hook_name(a.ifname, a.ingress), a.prog_id);
            continue;
        }
        if (!a.netns.empty() && !netns_exists(a.netns)) continue;
        NetnsGuard ns(a.netns);
        if (attacher.ensure(dp.prog_fd(name), a.ifindex, a.ingress, a.ifname, a.netns))
            r.updated.push_back(hook_name(a.ifname, a.ingress));
    }
    XdpAttacher xdp(dp.map_fd(kMapAttachments));
    for (const auto& a : xdp.list()) {
        if (!a.netns.empty() && !netns_exists(a.netns)) continue;
        NetnsGuard ns(a.netns);
        if (xdp.replace(dp.prog_fd(kProgUplinkXdp), a)) r.updated.push_back(a.ifname + " xdp");
    }
    return r;
}

void Instance::destroy() {
    if (exists()) {
        Datapath& dp = datapath(false);
        TcAttacher attacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode);
        for (const auto& a : attacher.list()) attacher.detach(a);
        XdpAttacher xdp(dp.map_fd(kMapAttachments));
        const auto xdp_attached = xdp.list();
        for (const auto& a : xdp_attached) xdp.detach(a);
        if (!xdp_attached.empty()) XdpAttacher::release_lock_dir(opts_.bpffs);
        dp_.reset();
    }
    if (auto other = other_abi_pins(); !other.empty()) {
        // Another build's datapath: not this build's to tear down.
        std::error_code ec;
        std::filesystem::remove_all(pins_.abi, ec);
        if (ec) throw Error("remove pins under " + pins_.abi + ": " + ec.message());
        spdlog::warn("left {} alone: destroy it with the build of its ABI version", other.front());
        return;
    }
    if (access(pins_.root.c_str(), F_OK) == 0) pins_.remove();
}

}  // namespace neutrino

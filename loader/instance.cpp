#include "loader/instance.hpp"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "loader/datapath.hpp"
#include "loader/error.hpp"
#include "loader/links.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/drop_reasons.hpp"

namespace neutrino {

namespace {

std::string str_of(const char* s, size_t n) { return std::string(s, strnlen(s, n)); }

MacAddr mac_of(const uint8_t* b) {
    MacAddr m;
    std::copy(b, b + 6, m.b.begin());
    return m;
}

IpAddr ip_of(const nt_ip& ip) {
    IpAddr a;
    std::copy(ip.b, ip.b + 16, a.b.begin());
    return a;
}

std::string hook_name(const std::string& ifname, bool ingress) {
    return ifname + (ingress ? " ingress" : " egress");
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

Datapath& Instance::datapath(bool create) const {
    if (dp_) return *dp_;
    if (!create) require_exists();
    bool have_progs = access((pins_.progs + "/" + kProgTapIngress).c_str(), F_OK) == 0;
    if (have_progs) {
        dp_ = Datapath::open_pinned(pins_);
    } else {
        ensure_bpffs_mounted(opts_.bpffs);
        pins_.create();
        dp_ = Datapath::load(pins_.maps);
        dp_->pin_programs(pins_);
        dp_->arm_ct_gc();
        spdlog::info("loaded and pinned the datapath under {}", pins_.abi);
    }
    return *dp_;
}

ApplyResult Instance::apply(const State& state, const std::string& host, bool dry_run) {
    ApplyResult r;
    r.dry_run = dry_run;
    r.host = resolve_host(state, host);

    std::map<std::string, uint32_t> ifaces;
    {
        NetnsGuard ns(opts_.netns);
        ifaces = list_interfaces();
    }
    CompileResult c = compile(state, CompileInput{r.host, ifaces});
    r.ports = c.local_ports;
    r.pending = c.pending_ports;
    for (const auto& p : c.pending_ports)
        spdlog::warn("port {}: interface {} not found{}; it is wired when it appears and apply runs again",
                     p.port_id, p.interface_name, opts_.netns.empty() ? "" : " in netns " + opts_.netns);

    if (dry_run && !exists()) {
        r.plan = diff(MapEntries{}, c.entries);
        return r;
    }
    Datapath& dp = datapath(!dry_run);
    BpfMapStore store(dp.maps());
    r.plan = diff(store.read_all(), c.entries);

    TcAttacher attacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode);
    std::set<std::pair<uint32_t, bool>> wanted;
    for (const auto& p : c.local_ports) {
        wanted.insert({p.ifindex, true});
        wanted.insert({p.ifindex, false});
    }
    std::vector<TcAttachment> stale;
    for (const auto& a : attacher.list())
        if (!wanted.count({a.ifindex, a.ingress}) || a.netns != opts_.netns) stale.push_back(a);
    if (dry_run) {
        for (const auto& a : stale) r.detached.push_back(hook_name(a.ifname, a.ingress));
        return r;
    }

    // Detach what leaves first, then the map writes (leaves first, deletes
    // last), then hook up new taps, whose entries now exist.
    for (const auto& a : stale) {
        attacher.detach(a);
        r.detached.push_back(hook_name(a.ifname, a.ingress));
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

void Instance::destroy() {
    if (exists()) {
        Datapath& dp = datapath(false);
        TcAttacher attacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode);
        for (const auto& a : attacher.list()) attacher.detach(a);
        dp_.reset();
    }
    if (access(pins_.root.c_str(), F_OK) == 0) pins_.remove();
}

MapEntries Instance::entries() const {
    BpfMapStore store(datapath(false).maps());
    return store.read_all();
}

std::vector<TcAttachment> Instance::attachments() const {
    Datapath& dp = datapath(false);
    return TcAttacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode).list();
}

std::vector<PortRow> Instance::ports() const {
    Datapath& dp = datapath(false);
    MapEntries e = entries();
    PerCpuBpfMap<__u32, nt_port_stats> stats(dp.map_fd(kMapPortStats), kMapPortStats);
    std::vector<PortRow> rows;
    for (const auto& [k, p] : e.ports) {
        PortRow r;
        r.ifindex = k.ifindex;
        r.port_tag = p.port_tag;
        r.net_id = p.net_id;
        r.mac = mac_of(p.mac);
        r.flags = p.flags;
        r.mtu = p.mtu;
        if (auto it = e.port_info.find(p.port_tag); it != e.port_info.end()) {
            r.id = str_of(it->second.id, sizeof it->second.id);
            r.name = str_of(it->second.name, sizeof it->second.name);
            r.ifname = str_of(it->second.ifname, sizeof it->second.ifname);
        }
        nt_net_key nk{p.net_id};
        if (auto it = e.net_info.find(nk); it != e.net_info.end()) {
            r.network_id = str_of(it->second.id, sizeof it->second.id);
            r.network_name = str_of(it->second.name, sizeof it->second.name);
        }
        for (const auto& [nk2, n] : e.neigh)
            if (nk2.net_id == p.net_id && n.port_tag == p.port_tag) r.ips.push_back(ip_of(nk2.ip));
        for (const auto& cpu : stats.lookup(p.port_tag)) {
            auto add = [](nt_counter& a, const nt_counter& b) {
                a.packets += b.packets;
                a.bytes += b.bytes;
            };
            add(r.stats.from_vm, cpu.from_vm);
            add(r.stats.to_vm, cpu.to_vm);
            add(r.stats.arp_reply, cpu.arp_reply);
            add(r.stats.flooded, cpu.flooded);
            add(r.stats.dropped, cpu.dropped);
        }
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const PortRow& a, const PortRow& b) {
        return std::tie(a.network_id, a.ifname) < std::tie(b.network_id, b.ifname);
    });
    return rows;
}

std::vector<FdbRow> Instance::fdb() const {
    MapEntries e = entries();
    std::vector<FdbRow> rows;
    for (const auto& [k, v] : e.fdb) {
        FdbRow r;
        r.net_id = k.net_id;
        r.mac = mac_of(k.mac);
        r.flags = v.flags;
        r.ifindex = v.ifindex;
        r.vtep = ip_of(v.vtep);
        if (auto it = e.net_info.find(nt_net_key{k.net_id}); it != e.net_info.end())
            r.network_id = str_of(it->second.id, sizeof it->second.id);
        for (const auto& [tag, info] : e.port_info)
            if (info.ifindex == v.ifindex && info.net_id == k.net_id && (v.flags & NT_FDB_LOCAL)) {
                r.ifname = str_of(info.ifname, sizeof info.ifname);
                r.port_id = str_of(info.id, sizeof info.id);
            }
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const FdbRow& a, const FdbRow& b) {
        return std::tie(a.network_id, a.mac) < std::tie(b.network_id, b.mac);
    });
    return rows;
}

std::vector<DropRow> Instance::drops() const {
    Datapath& dp = datapath(false);
    PerCpuBpfMap<__u32, nt_counter> m(dp.map_fd(kMapDropStats), kMapDropStats);
    std::vector<DropRow> rows;
    for (const auto& t : drop_reasons()) {
        DropRow r{t.number, t.name, t.description, {}};
        for (const auto& c : m.lookup(t.number)) {
            r.counter.packets += c.packets;
            r.counter.bytes += c.bytes;
        }
        rows.push_back(r);
    }
    return rows;
}

}  // namespace neutrino

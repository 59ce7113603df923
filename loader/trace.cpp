#include "loader/trace.hpp"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "loader/datapath.hpp"
#include "loader/error.hpp"
#include "loader/netns.hpp"
#include "loader/test_run.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/drop_reasons.hpp"

namespace neutrino {

namespace {

constexpr int kMaxStages = 8;  // a redirect loop in the maps must not hang the trace

std::string str_of(const char* s, size_t n) { return std::string(s, strnlen(s, n)); }

IpAddr ip_of(const nt_ip& ip) {
    IpAddr a;
    std::memcpy(a.b.data(), ip.b, 16);
    return a;
}

MacAddr mac_of(const uint8_t* b) {
    MacAddr m;
    std::memcpy(m.b.data(), b, 6);
    return m;
}

// One instance (host) as the trace sees it: its pinned programs, its maps
// read once, and the netns its interfaces live in.
struct TraceHost {
    std::string name, netns;
    std::unique_ptr<Datapath> dp;
    MapEntries e;
    nt_config cfg{};

    TraceHost(const InstanceOptions& o) : name(o.name), netns(o.netns) {
        PinPaths pins = PinPaths::for_instance(o.name, o.bpffs);
        if (!pins.exists()) throw Error("instance '" + o.name + "' has nothing applied (no pins under " + pins.abi + ")");
        dp = Datapath::open_pinned(pins);
        e = BpfMapStore(dp->maps()).read_all();
        if (auto it = e.config.find(0); it != e.config.end()) cfg = it->second;
    }

    std::string ifname(uint32_t ifindex) const {
        NetnsGuard g(netns);
        char buf[IF_NAMESIZE] = {};
        if (!if_indextoname(ifindex, buf)) return "ifindex " + std::to_string(ifindex);
        return buf;
    }

    uint32_t ifindex(const std::string& name) const {
        NetnsGuard g(netns);
        unsigned i = if_nametoindex(name.c_str());
        if (!i) throw Error("no interface '" + name + "'" + (netns.empty() ? "" : " in netns " + netns));
        return i;
    }

    MacAddr if_mac(const std::string& name) const {
        NetnsGuard g(netns);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw_errno("socket", errno);
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
        int r = ioctl(fd, SIOCGIFHWADDR, &ifr);
        int err = errno;
        close(fd);
        if (r != 0) throw_errno("MAC address of " + name, err);
        return mac_of(reinterpret_cast<const uint8_t*>(ifr.ifr_hwaddr.sa_data));
    }

    const nt_port* port(uint32_t ifindex) const {
        auto it = e.ports.find(nt_port_key{ifindex});
        return it == e.ports.end() ? nullptr : &it->second;
    }

    std::string port_name(const nt_port& p) const {
        auto it = e.port_info.find(p.port_tag);
        if (it == e.port_info.end()) return "#" + std::to_string(p.port_tag);
        std::string name = str_of(it->second.name, sizeof it->second.name);
        return name.empty() ? str_of(it->second.id, sizeof it->second.id) : name;
    }

    std::string net_name(uint32_t net_id) const {
        auto it = e.net_info.find(nt_net_key{net_id});
        if (it == e.net_info.end()) return "#" + std::to_string(net_id);
        std::string name = str_of(it->second.name, sizeof it->second.name);
        return name.empty() ? str_of(it->second.id, sizeof it->second.id) : name;
    }

    std::string router_name(uint32_t router_id) const {
        auto it = e.router_info.find(router_id);
        if (it == e.router_info.end()) return "#" + std::to_string(router_id);
        std::string name = str_of(it->second.name, sizeof it->second.name);
        return name.empty() ? str_of(it->second.id, sizeof it->second.id) : name;
    }

    const nt_neigh* neigh(uint32_t net_id, const IpAddr& ip) const {
        nt_neigh_key k{};
        k.net_id = net_id;
        k.ip = ip.to_abi();
        auto it = e.neigh.find(k);
        return it == e.neigh.end() ? nullptr : &it->second;
    }

    const nt_fdb_entry* fdb(uint32_t net_id, const MacAddr& mac) const {
        nt_fdb_key k{};
        k.net_id = net_id;
        std::memcpy(k.mac, mac.b.data(), 6);
        auto it = e.fdb.find(k);
        return it == e.fdb.end() ? nullptr : &it->second;
    }

    // A router interface MAC on the network: where a VM sends off-subnet packets.
    std::optional<MacAddr> router_mac(uint32_t net_id) const {
        for (const auto& [k, v] : e.fdb)
            if (k.net_id == net_id && (v.flags & NT_FDB_ROUTER) && !(v.flags & NT_FDB_SNAT_PEER)) return mac_of(k.mac);
        return std::nullopt;
    }

    // The network an uplink carries off this host (provider networks).
    std::optional<uint32_t> uplink_net(uint32_t ifindex) const {
        for (const auto& [k, n] : e.nets)
            if (n.uplink == ifindex && n.type != NT_NET_VXLAN && n.type != NT_NET_GRE) return k.net_id;
        return std::nullopt;
    }

    bool is_uplink(uint32_t ifindex) const {
        if (cfg.tunnel_ifindex && ifindex == cfg.tunnel_ifindex) return true;
        for (const auto& [k, n] : e.nets)
            if (n.uplink == ifindex) return true;
        return false;
    }

    std::optional<uint32_t> net_by_ref(const std::string& ref) const {
        for (const auto& [k, v] : e.net_info) {
            std::string id = str_of(v.id, sizeof v.id), name = str_of(v.name, sizeof v.name);
            if (id == ref || name == ref || (ref.size() >= 8 && id.rfind(ref, 0) == 0)) return k.net_id;
        }
        return std::nullopt;
    }
};

struct RunOut {
    int retval = 0;
    nt_trace_cb cb{};
    uint32_t mark = 0, priority = 0;
    Frame out;
};

// One BPF_PROG_TEST_RUN of a TC program in trace mode, inside the host's
// netns (the kernel finds ctx.ifindex there and makes it skb->dev).
RunOut run_tc(const TraceHost& h, const std::string& prog, uint32_t ifindex, const Frame& in) {
    NetnsGuard g(h.netns);
    __sk_buff ctx_in{}, ctx_out{};
    ctx_in.ifindex = ifindex;
    ctx_in.cb[0] = NT_TRACE_MAGIC0;
    ctx_in.cb[1] = NT_TRACE_MAGIC1;
    RunOut r;
    TestRunResult t;
    try {
        t = prog_test_run(h.dp->prog_fd(prog), in, &ctx_in, sizeof ctx_in, &ctx_out, sizeof ctx_out);
    } catch (const Error& e) {
        throw Error("run " + prog + " of instance " + h.name + " on ifindex " + std::to_string(ifindex) + ": " +
                    e.what());
    }
    r.retval = t.retval;
    r.out = std::move(t.out);
    std::memcpy(&r.cb, ctx_out.cb, sizeof r.cb);
    r.mark = ctx_out.mark;
    r.priority = ctx_out.priority;
    return r;
}

const Layer* last_of(const std::vector<Layer>& ls, const std::string& proto) {
    const Layer* l = nullptr;
    for (const auto& x : ls)
        if (x.proto == proto) l = &x;
    return l;
}

const Layer* first_of(const std::vector<Layer>& ls, const std::string& proto) {
    for (const auto& x : ls)
        if (x.proto == proto) return &x;
    return nullptr;
}

bool has_tunnel(const std::vector<Layer>& ls) { return first_of(ls, "vxlan") || first_of(ls, "gre"); }

std::string tunnel_text(const std::vector<Layer>& ls) {
    const Layer* outer = first_of(ls, "ipv4");
    std::string t;
    if (const Layer* v = first_of(ls, "vxlan")) t = "VXLAN VNI " + v->get("vni");
    else if (const Layer* g = first_of(ls, "gre")) t = "GRE key " + g->get("key");
    return t + ", outer " + (outer ? outer->get("src") + " > " + outer->get("dst") : "?");
}

// Is `fixed -> other` a floating IP of this host (in either direction)?
bool is_fip(const TraceHost& h, uint32_t dir, const std::string& from, const std::string& to) {
    for (const auto& [k, v] : h.e.fips)
        if (k.dir == dir && ip_of(k.addr).str() == from && ip_of(v.addr).str() == to) return true;
    return false;
}

// What one program did to the packet, in words.
void describe(const TraceHost& h, TraceStage& s) {
    auto in = decode_frame(s.in), out = decode_frame(s.out);
    if (s.verdict == NT_VERDICT_DROP) return;
    bool enc_in = has_tunnel(in), enc_out = has_tunnel(out);
    if (!enc_in && enc_out) s.notes.push_back("encapsulated: " + tunnel_text(out));
    if (enc_in && !enc_out) s.notes.push_back("decapsulated: " + tunnel_text(in));
    const Layer* a = last_of(in, "ipv4");
    const Layer* b = last_of(out, "ipv4");
    if (!a || !b || s.verdict == NT_VERDICT_REPLY) return;
    const Layer* ea = last_of(in, "eth");
    const Layer* eb = last_of(out, "eth");
    if (ea && eb && a->get("ttl") != b->get("ttl") && std::stoi(b->get("ttl")) < std::stoi(a->get("ttl"))) {
        std::string router;
        if (auto dst = MacAddr::parse(ea->get("dst")))
            for (const auto& [k, v] : h.e.fdb)
                if ((v.flags & NT_FDB_ROUTER) && mac_of(k.mac) == *dst) router = h.router_name(v.router_id);
        s.notes.push_back("routed" + (router.empty() ? std::string() : " by router " + router) + ": ttl " +
                          a->get("ttl") + " -> " + b->get("ttl") + ", " + eb->get("src") + " > " + eb->get("dst"));
    }
    if (a->get("src") != b->get("src"))
        s.notes.push_back("source NAT " + a->get("src") + " -> " + b->get("src") +
                          (is_fip(h, NT_NAT_OUT, a->get("src"), b->get("src")) ? " (floating IP)" : " (SNAT binding)"));
    if (a->get("dst") != b->get("dst"))
        s.notes.push_back("destination NAT " + a->get("dst") + " -> " + b->get("dst") +
                          (is_fip(h, NT_NAT_IN, a->get("dst"), b->get("dst")) ? " (floating IP)" : " (SNAT binding)"));
    else if (const Layer* ta = last_of(in, a->get("protocol")), *tb = last_of(out, b->get("protocol"));
             ta && tb && ta->get("dport") != tb->get("dport"))
        s.notes.push_back("destination port " + ta->get("dport") + " -> " + tb->get("dport"));
}

// A tap's frame to a router MAC left with its fixed source: out of the
// external network, a SNAT router has no binding for the flow yet (a trace
// makes none); over the tunnel still addressed to the router MAC, it goes
// to the router's SNAT host as sent (a routed frame would carry the
// destination VM's MAC).
void note_snat(const TraceHost& h, TraceStage& s) {
    auto in = decode_frame(s.in), out = decode_frame(s.out);
    const Layer* a = last_of(in, "ipv4");
    const Layer* b = last_of(out, "ipv4");
    const Layer* ea = first_of(in, "eth");
    if (!a || !b || !ea || a->get("src") != b->get("src")) return;
    const nt_port* p = h.port(s.ifindex);
    auto mac = MacAddr::parse(ea->get("dst"));
    if (!p || !mac) return;
    const nt_fdb_entry* r = h.fdb(p->net_id, *mac);
    if (!r || !(r->flags & NT_FDB_ROUTER)) return;
    auto sn = h.e.snat.find(r->router_id);
    if (sn == h.e.snat.end()) return;
    const Layer* inner_eth = last_of(out, "eth");
    const bool as_sent = has_tunnel(out) && inner_eth && inner_eth->get("dst") == ea->get("dst");
    if (sn->second.flags & NT_SNAT_REMOTE) {
        if (!as_sent) return;
        s.notes.push_back("SNAT: translated on the router's SNAT host " + ip_of(sn->second.snat_host).str() +
                          " (source -> " + ip_of(sn->second.ext_ip).str() + "); the frame goes there as sent");
        return;
    }
    if (has_tunnel(out)) return;  // routed to a VM on another host
    s.notes.push_back("SNAT: no binding for this flow yet; a real packet would get one (source -> " +
                      ip_of(sn->second.ext_ip).str() + ", port " + std::to_string(sn->second.port_min) + "-" +
                      std::to_string(sn->second.port_max) + "); a trace makes none, so it shows the source untranslated");
}

void fill_rule(const TraceHost& h, TraceStage& s) {
    if (!s.rule_tag) return;
    auto it = h.e.rule_info.find(s.rule_tag);
    if (it == h.e.rule_info.end()) return;
    s.rule_id = str_of(it->second.rule_id, sizeof it->second.rule_id);
    s.rule_group = str_of(it->second.sg_name, sizeof it->second.sg_name);
    if (s.rule_group.empty()) s.rule_group = str_of(it->second.sg_id, sizeof it->second.sg_id);
    s.rule_desc = str_of(it->second.desc, sizeof it->second.desc);
}

struct Next {
    const TraceHost* host;
    std::string program;
    uint32_t ifindex;
    Frame frame;
};

std::string drop_summary(const TraceStage& s) {
    std::string why = drop_reason_name(s.reason);
    for (const auto& r : drop_reasons())
        if (r.number == s.reason) why += " (" + std::string(r.description) + ")";
    std::string where = s.port.empty() ? s.interface : "port " + s.port;
    if (s.reason == NT_DROP_SG_NO_MATCH)
        return "dropped by " + s.program + " of " + where + " on " + s.host + ": no security-group rule of port " +
               s.port + " allows it (" + (s.program == "tap_ingress" ? "egress" : "ingress") + ", new flow)";
    return "dropped by " + s.program + " of " + where + " on " + s.host + ": " + why;
}

}  // namespace

uint8_t parse_tcp_flags(const std::string& letters) {
    uint8_t f = 0;
    for (char c : letters) {
        const char* names = "FSRPAU";
        const char* p = std::strchr(names, std::toupper(static_cast<unsigned char>(c)));
        if (!p || !c) throw Error("--tcp-flags: '" + letters + "' (letters of FSRPAU, e.g. S, SA, A, FA, R)");
        f |= static_cast<uint8_t>(1u << (p - names));
    }
    return f;
}

TraceResult run_trace(const InstanceOptions& self, const TraceRequest& req) {
    TraceHost h(self);
    std::unique_ptr<TraceHost> peer;
    if (!req.peer_instance.empty()) {
        InstanceOptions po = self;
        po.name = req.peer_instance;
        po.netns = req.peer_netns;
        peer = std::make_unique<TraceHost>(po);
    }
    if (req.from_port.empty() == req.from_uplink.empty()) throw Error("trace: give --from-port or --from-uplink");
    if (!req.dst.is_v4()) throw Error("trace: --dst must be an IPv4 address (routing and NAT are IPv4)");

    PacketSpec spec;
    try {
        spec.proto = proto_number(req.proto);
    } catch (const std::invalid_argument& e) {
        throw Error(e.what());
    }
    spec.dst = req.dst;
    spec.sport = req.sport ? req.sport : (spec.proto == 1 ? 0x4e54 : 40000);
    spec.dport = req.dport;
    spec.ttl = req.ttl;
    spec.tcp_flags = parse_tcp_flags(req.tcp_flags);

    Next first{&h, "", 0, {}};
    if (!req.from_port.empty()) {
        uint32_t ifindex = 0;
        for (const auto& [tag, info] : h.e.port_info) {
            std::string id = str_of(info.id, sizeof info.id);
            if (id == req.from_port || str_of(info.name, sizeof info.name) == req.from_port ||
                str_of(info.ifname, sizeof info.ifname) == req.from_port ||
                (req.from_port.size() >= 8 && id.rfind(req.from_port, 0) == 0))
                if (h.port(info.ifindex)) ifindex = info.ifindex;
        }
        if (!ifindex) throw Error("no local port matches '" + req.from_port + "' on instance " + h.name);
        const nt_port& p = *h.port(ifindex);
        spec.src_mac = req.src_mac ? *req.src_mac : mac_of(p.mac);
        spec.src = req.src ? *req.src : ip_of(p.ip);
        if (req.dst_mac) {
            spec.dst_mac = *req.dst_mac;
        } else if (const nt_neigh* n = h.neigh(p.net_id, req.dst)) {
            spec.dst_mac = mac_of(n->mac);  // on the port's own network
        } else if (auto r = h.router_mac(p.net_id)) {
            spec.dst_mac = *r;  // off-subnet: to the gateway
        } else {
            throw Error("no MAC for " + req.dst.str() + " on network " + h.net_name(p.net_id) +
                        " and no router there: give --dst-mac");
        }
        first = {&h, kProgTapIngress, ifindex, build_frame(spec)};
    } else {
        uint32_t ifindex = h.ifindex(req.from_uplink);
        uint32_t net_id = 0;
        bool tunnel = h.cfg.tunnel_ifindex && ifindex == h.cfg.tunnel_ifindex;
        if (tunnel) {
            if (!req.outer_src || req.network.empty())
                throw Error(req.from_uplink + " is the tunnel interface: give --outer-src VTEP and --network NET");
            auto n = h.net_by_ref(req.network);
            if (!n) throw Error("no network '" + req.network + "' on instance " + h.name);
            net_id = *n;
        } else if (auto n = h.uplink_net(ifindex)) {
            net_id = *n;
        } else {
            throw Error(req.from_uplink + " carries no flat network of instance " + h.name +
                        " (VLAN frames cannot be traced: a test run cannot set the VLAN tag metadata)");
        }
        if (!req.src) throw Error("--from-uplink needs --src");
        spec.src = *req.src;
        if (req.src_mac) spec.src_mac = *req.src_mac;
        else if (const nt_neigh* n = h.neigh(net_id, *req.src)) spec.src_mac = mac_of(n->mac);  // a remote port
        else spec.src_mac = *MacAddr::parse("02:00:00:00:00:01");
        if (req.dst_mac) spec.dst_mac = *req.dst_mac;
        else if (const nt_neigh* n = h.neigh(net_id, req.dst)) spec.dst_mac = mac_of(n->mac);
        else if (auto r = h.router_mac(net_id)) spec.dst_mac = *r;
        else throw Error("no MAC for " + req.dst.str() + " on network " + h.net_name(net_id) + ": give --dst-mac");
        Frame frame = build_frame(spec);
        if (tunnel) {
            auto nit = h.e.nets.find(nt_net_key{net_id});
            if (nit == h.e.nets.end()) throw Error("network " + req.network + " has no entry on this host");
            OuterSpec o;
            o.src_mac = *MacAddr::parse("02:00:00:00:00:02");
            o.dst_mac = h.if_mac(req.from_uplink);
            o.src = *req.outer_src;
            o.dst = ip_of(h.cfg.tunnel_ip);
            o.type = nit->second.type;
            o.seg_id = nit->second.seg_id;
            frame = encapsulate(o, frame);
        }
        first = {&h, kProgUplinkIngress, ifindex, std::move(frame)};
    }

    TraceResult res;
    std::optional<Next> next = std::move(first);
    while (next) {
        Next cur = std::move(*next);
        next.reset();
        if (static_cast<int>(res.stages.size()) >= kMaxStages) {
            res.outcome = "loop";
            res.summary = "more than " + std::to_string(kMaxStages) + " stages: the trace stops";
            return res;
        }
        const TraceHost& H = *cur.host;
        RunOut r = run_tc(H, cur.program, cur.ifindex, cur.frame);
        TraceStage s;
        s.host = H.name;
        s.program = cur.program;
        s.ifindex = cur.ifindex;
        s.interface = H.ifname(cur.ifindex);
        if (const nt_port* p = H.port(cur.ifindex)) s.port = H.port_name(*p);
        s.retval = r.retval;
        s.verdict = r.cb.verdict;
        s.target = r.cb.target;
        s.reason = r.cb.reason;
        if (cur.program != kProgUplinkIngress) {  // only the tap programs report a policy
            s.policy = r.priority;
            s.rule_tag = r.mark;
            fill_rule(H, s);
        }
        s.in = std::move(cur.frame);
        s.out = std::move(r.out);
        if (cur.program == kProgUplinkIngress && has_tunnel(decode_frame(s.in)))
            s.notes.push_back("uplink_xdp runs first on this interface with the same tunnel checks; it has no "
                              "trace mode (it counts its drops), so the trace runs the TC program only");
        describe(H, s);

        if (s.verdict == NT_VERDICT_REDIRECT || s.verdict == NT_VERDICT_REPLY || s.verdict == NT_VERDICT_DELIVER) {
            if (const nt_port* p = H.port(s.target)) s.target_name = H.ifname(s.target) + " (port " + H.port_name(*p) + ")";
            else if (s.target) s.target_name = H.ifname(s.target);
        }

        switch (s.verdict) {
        case NT_VERDICT_DROP:
            res.outcome = "dropped";
            res.summary = drop_summary(s);
            break;
        case NT_VERDICT_REPLY:
            res.outcome = "replied";
            res.summary = "answered by " + s.program + " on " + s.host + ", back out of " + s.interface +
                          (s.reason ? std::string(" as an ICMP error (") + drop_reason_name(s.reason) + ")" : "");
            break;
        case NT_VERDICT_FLOOD:
            res.outcome = "flooded";
            res.summary = "flooded by " + s.program + " on " + s.host + " to " + std::to_string(s.target) + " copies";
            break;
        case NT_VERDICT_DELIVER:
            res.outcome = "delivered";
            res.summary = "delivered to port " + s.port + " (" + s.interface + ") on " + s.host;
            break;
        case NT_VERDICT_REDIRECT:
            if (H.port(s.target)) {
                next = Next{&H, kProgTapEgress, s.target, s.out};
            } else if (H.is_uplink(s.target)) {
                auto out = decode_frame(s.out);
                bool tun = has_tunnel(out);
                const Layer* outer = first_of(out, "ipv4");
                std::string vtep = tun && outer ? outer->get("dst") : "";
                if (s.program == kProgTapIngress) note_snat(H, s);
                if (tun && peer && peer->cfg.tunnel_ifindex && ip_of(peer->cfg.tunnel_ip).str() == vtep) {
                    s.notes.push_back("to VTEP " + vtep + ": host " + peer->name);
                    next = Next{peer.get(), kProgUplinkIngress, peer->cfg.tunnel_ifindex, s.out};
                } else {
                    res.outcome = "leaves";
                    if (tun) {
                        res.summary = "leaves " + s.host + " via " + H.ifname(s.target) + " to VTEP " + vtep + " (" +
                                      tunnel_text(out) + ")";
                    } else {
                        std::string net;
                        for (const auto& [k, n] : H.e.nets)
                            if (n.uplink == s.target) {
                                net = H.net_name(k.net_id);
                                if (n.type == NT_NET_VLAN) net += ", VLAN " + std::to_string(n.seg_id) + " tag pushed";
                            }
                        res.summary = "leaves " + s.host + " via uplink " + H.ifname(s.target) +
                                      (net.empty() ? "" : " (network " + net + ")");
                    }
                }
            } else {
                res.outcome = "redirected";
                res.summary = "redirected by " + s.program + " on " + s.host + " to " + s.target_name +
                              ", not a Neutrino interface";
            }
            break;
        default:
            if (r.retval == TC_ACT_OK) {
                res.outcome = "to-host";
                res.summary = "not Neutrino's: " + s.program + " on " + s.host + " passes it to the host stack";
            } else {
                res.outcome = "dropped";
                res.summary = s.program + " returned " + std::to_string(r.retval) + " without a verdict";
            }
        }
        res.stages.push_back(std::move(s));
    }
    return res;
}

}  // namespace neutrino

#include "loader/tc_attach.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"
#include "maps/abi_util.hpp"

namespace neutrino {

namespace {

// tcx arrived in 6.6; Debian 12's UAPI headers (6.1) do not name it yet.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

// struct bpf_link_info as of 6.6: tcx.ifindex sits at offset 16 and reads 0
// once the device is gone (a defunct link).
struct LinkInfoTcx {
    uint32_t type, id, prog_id, pad;
    uint32_t ifindex, attach_type;
    uint8_t rest[64];
};

std::string str_of(const char* s, size_t n) { return std::string(s, strnlen(s, n)); }

bpf_tc_hook tc_hook(uint32_t ifindex, bool ingress) {
    bpf_tc_hook h{};
    h.sz = sizeof h;
    h.ifindex = static_cast<int>(ifindex);
    h.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
    return h;
}

bpf_tc_opts tc_opts() {
    bpf_tc_opts o{};
    o.sz = sizeof o;
    o.handle = NT_TC_HANDLE;
    o.priority = NT_TC_PRIORITY;
    return o;
}

// The program id of Neutrino's cls_bpf filter on this hook, 0 if none.
uint32_t cls_prog_id(uint32_t ifindex, bool ingress) {
    auto h = tc_hook(ifindex, ingress);
    auto o = tc_opts();
    if (bpf_tc_query(&h, &o) != 0) return 0;
    return o.prog_id;
}

}  // namespace

TcMode parse_tc_mode(const std::string& s) {
    if (s == "auto") return TcMode::Auto;
    if (s == "tcx") return TcMode::Tcx;
    if (s == "cls") return TcMode::Cls;
    throw Error("unknown TC attach mode '" + s + "' (expected auto, tcx or cls)");
}

const char* to_string(TcMode m) {
    switch (m) {
        case TcMode::Auto: return "auto";
        case TcMode::Tcx: return "tcx";
        case TcMode::Cls: return "cls";
    }
    return "?";
}

TcAttacher::TcAttacher(int attachments_fd, std::string links_dir, TcMode mode)
    : map_(attachments_fd, "nt_attachments"), links_dir_(std::move(links_dir)), mode_(mode) {}

uint32_t TcAttacher::prog_id_of(int prog_fd) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) throw_errno("inspect program", errno);
    return info.id;
}

uint32_t TcAttacher::cached_prog_id(int prog_fd) {
    auto [it, fresh] = prog_ids_.try_emplace(prog_fd, 0);
    if (fresh) it->second = prog_id_of(prog_fd);
    return it->second;
}

// One walk of the map, the first time anything asks; record() and forget()
// keep it current from then on.
std::unordered_map<uint32_t, TcAttacher::Hooks>& TcAttacher::view() const {
    if (!view_) {
        view_.emplace();
        map_.for_each([&](const nt_attach_key& k, const nt_attach& v) {
            if (k.ingress == NT_HOOK_XDP) return;  // XdpAttacher's
            (*view_)[k.ifindex][k.ingress ? 1 : 0] = v;
        });
    }
    return *view_;
}

const std::optional<nt_attach>& TcAttacher::recorded(uint32_t ifindex, bool ingress) const {
    static const std::optional<nt_attach> none;
    auto& v = view();
    auto it = v.find(ifindex);
    return it == v.end() ? none : it->second[ingress ? 1 : 0];
}

// bpffs refuses names with dots (reserved), and interface names may have
// them (eth0.100): pins are named by ifindex, unique within the namespace.
std::string TcAttacher::link_pin(uint32_t ifindex, bool ingress) const {
    return links_dir_ + "/if" + std::to_string(ifindex) + (ingress ? "-ingress" : "-egress");
}

bool TcAttacher::tcx_alive(const std::string& pin) const {
    int fd = bpf_obj_get(pin.c_str());
    if (fd < 0) return false;
    LinkInfoTcx info{};
    uint32_t len = sizeof info;
    bool alive = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.ifindex != 0;
    close(fd);
    return alive;
}

// Swaps the program of a live pinned tcx link (BPF_LINK_UPDATE): atomic, and
// unlike a new link it needs no RCU grace period in the kernel.
bool TcAttacher::tcx_update(const std::string& pin, int prog_fd) const {
    int fd = bpf_obj_get(pin.c_str());
    if (fd < 0) return false;
    bool ok = bpf_link_update(fd, prog_fd, nullptr) == 0;
    close(fd);
    return ok;
}

std::vector<TcAttachment> TcAttacher::list() const {
    std::vector<TcAttachment> out;
    for (const auto& [ifindex, hooks] : view())
        for (int dir = 1; dir >= 0; dir--)
            if (const auto& v = hooks[dir])
                out.push_back({ifindex, dir == 1, str_of(v->ifname, sizeof v->ifname),
                               str_of(v->netns, sizeof v->netns), v->mode, v->flags, v->prog_id});
    std::sort(out.begin(), out.end(), [](const TcAttachment& a, const TcAttachment& b) {
        return a.ifindex != b.ifindex ? a.ifindex < b.ifindex : a.ingress > b.ingress;
    });
    return out;
}

void TcAttacher::record(const TcAttachment& a) {
    nt_attach v{};
    v.mode = a.mode;
    v.flags = a.flags;
    v.prog_id = a.prog_id;
    copy_name(v.ifname, a.ifname);
    copy_name(v.netns, a.netns);
    map_.update(nt_attach_key{a.ifindex, a.ingress ? 1u : 0u}, v);
    view()[a.ifindex][a.ingress ? 1 : 0] = v;
}

void TcAttacher::forget(uint32_t ifindex, bool ingress) {
    map_.erase(nt_attach_key{ifindex, ingress ? 1u : 0u});
    auto& v = view();
    if (auto it = v.find(ifindex); it != v.end()) {
        it->second[ingress ? 1 : 0].reset();
        if (!it->second[0] && !it->second[1]) v.erase(it);
    }
}

bool TcAttacher::ensure(int prog_fd, uint32_t ifindex, bool ingress, const std::string& ifname,
                        const std::string& netns) {
    const uint32_t prog_id = cached_prog_id(prog_fd);
    const char* hook = ingress ? "ingress" : "egress";
    const std::string pin = link_pin(ifindex, ingress);
    TcAttachment a{ifindex, ingress, ifname, netns, 0, 0, prog_id};
    if (const auto& rec = recorded(ifindex, ingress)) {
        if (rec->mode == NT_ATTACH_TCX && tcx_alive(pin)) {
            if (rec->prog_id == prog_id) return false;
            if (tcx_update(pin, prog_fd)) {
                a.mode = NT_ATTACH_TCX;
                record(a);
                spdlog::info("updated {} on {} to program {} (tcx link)", hook, ifname, prog_id);
                return true;
            }
        } else if (rec->mode == NT_ATTACH_CLS) {
            const uint32_t live = cls_prog_id(ifindex, ingress);
            if (rec->prog_id == prog_id && live == prog_id) return false;
            if (live != 0 && live == rec->prog_id) {
                // Our filter with an older program: replaced in place (same
                // handle and priority), which cls_bpf does atomically. It
                // stays a cls_bpf filter whatever --tc-mode says: a tcx link
                // beside it would run the datapath twice.
                auto th = tc_hook(ifindex, ingress);
                auto o = tc_opts();
                o.prog_fd = prog_fd;
                o.flags = BPF_TC_F_REPLACE;
                int err = bpf_tc_attach(&th, &o);
                if (err) throw_errno(std::string("replace cls_bpf ") + hook + " on " + ifname, err);
                a.mode = NT_ATTACH_CLS;
                a.flags = rec->flags;
                record(a);
                spdlog::info("updated {} on {} to program {} (cls_bpf)", hook, ifname, prog_id);
                return true;
            }
        }
    }

    if (mode_ != TcMode::Cls) {
        // One RCU grace period inside the kernel per new link (tcx swaps the
        // hook's program array and waits for readers of the old one, holding
        // the rtnl lock): see docs/design.md, "Attach cost".
        int fd = bpf_link_create(prog_fd, static_cast<int>(ifindex),
                                 static_cast<bpf_attach_type>(ingress ? kBpfTcxIngress : kBpfTcxEgress),
                                 nullptr);
        if (fd >= 0) {
            unlink(pin.c_str());  // a defunct link of an earlier tap of this name
            if (bpf_obj_pin(fd, pin.c_str()) != 0) {
                int e = errno;
                close(fd);
                throw_errno("pin tcx link " + pin, e);
            }
            close(fd);
            a.mode = NT_ATTACH_TCX;
            record(a);
            spdlog::info("attached {} on {} (tcx link)", hook, ifname);
            return true;
        }
        int e = errno;
        if (mode_ == TcMode::Tcx || (e != EINVAL && e != EOPNOTSUPP))
            throw_errno(std::string("attach tcx ") + hook + " on " + ifname, e);
        spdlog::info("kernel has no tcx links ({}); using clsact/cls_bpf on {}", std::strerror(e), ifname);
    }

    auto h = tc_hook(ifindex, true);  // clsact covers both directions
    int err = bpf_tc_hook_create(&h);
    if (err == 0)
        a.flags |= NT_ATTACH_CREATED_QDISC;
    else if (err != -EEXIST)
        throw_errno("create clsact on " + ifname, err);
    // Keep the created-qdisc mark of the other direction's record, if any.
    if (const auto& other = recorded(ifindex, !ingress)) a.flags |= other->flags & NT_ATTACH_CREATED_QDISC;
    auto th = tc_hook(ifindex, ingress);
    auto o = tc_opts();
    o.prog_fd = prog_fd;
    o.flags = BPF_TC_F_REPLACE;
    err = bpf_tc_attach(&th, &o);
    if (err) throw_errno(std::string("attach cls_bpf ") + hook + " on " + ifname, err);
    a.mode = NT_ATTACH_CLS;
    record(a);
    spdlog::info("attached {} on {} (cls_bpf)", hook, ifname);
    return true;
}

void TcAttacher::detach(const TcAttachment& a) {
    const char* hook = a.ingress ? "ingress" : "egress";
    if (a.mode == NT_ATTACH_TCX) {
        // Detach first, then unpin: unpinning alone (the pin is the only
        // reference) leaves the release to a kernel worker, and the program
        // keeps running on the hook until it gets to it, one grace period per
        // link, seconds later for a thousand ports. This way the hook is gone
        // when detach returns.
        const std::string pin = link_pin(a.ifindex, a.ingress);
        if (int fd = bpf_obj_get(pin.c_str()); fd >= 0) {
            bpf_link_detach(fd);  // fails only when already defunct (device gone)
            close(fd);
        }
        unlink(pin.c_str());
    } else if (a.mode == NT_ATTACH_CLS) {
        std::optional<NetnsGuard> in_ns;
        if (a.netns.empty() || netns_exists(a.netns)) {
            in_ns.emplace(a.netns);
            if (cls_prog_id(a.ifindex, a.ingress) == a.prog_id) {
                auto h = tc_hook(a.ifindex, a.ingress);
                auto o = tc_opts();
                int err = bpf_tc_detach(&h, &o);
                if (err && err != -ENOENT && err != -ENODEV)
                    throw_errno(std::string("detach cls_bpf ") + hook + " from " + a.ifname, err);
            }
            // Remove clsact only if we created it and this is our last filter on it.
            bool other_dir_ours = recorded(a.ifindex, !a.ingress).has_value();
            if ((a.flags & NT_ATTACH_CREATED_QDISC) && !other_dir_ours) {
                auto h = tc_hook(a.ifindex, true);
                h.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
                bpf_tc_hook_destroy(&h);
            }
        }
    }
    forget(a.ifindex, a.ingress);
    spdlog::info("detached {} from {}", hook, a.ifname);
}

}  // namespace neutrino

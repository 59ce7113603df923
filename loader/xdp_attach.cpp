#include "loader/xdp_attach.hpp"

#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <optional>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "loader/netns.hpp"
#include "loader/tc_attach.hpp"
#include "maps/bpf_map.hpp"

namespace neutrino {

namespace {

int libxdp_to_spdlog(enum libxdp_print_level level, const char* fmt, va_list args) {
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, args);
    std::string msg(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    // The dispatcher fallback is expected on some kernels: keep it at debug.
    if (level == LIBXDP_WARN) spdlog::debug("libxdp: {}", msg);
    else spdlog::trace("libxdp: {}", msg);
    return n;
}

template <size_t N>
void copy_str(char (&dst)[N], const std::string& s) {
    std::memset(dst, 0, N);
    std::memcpy(dst, s.data(), std::min(s.size(), N - 1));
}

// The id of the XDP program attached to ifindex (0 if none).
uint32_t attached_xdp_id(uint32_t ifindex) {
    uint32_t id = 0;
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(static_cast<int>(ifindex), 0, &q) == 0) id = q.prog_id;
    return id;
}

}  // namespace

XdpAttacher::XdpAttacher(int attachments_fd) : attachments_fd_(attachments_fd) {
    static bool once = [] {
        libxdp_set_print(libxdp_to_spdlog);
        return true;
    }();
    (void)once;
}

std::vector<XdpAttachment> XdpAttacher::list() const {
    std::vector<XdpAttachment> out;
    BpfMap<nt_attach_key, nt_attach> m(attachments_fd_, "nt_attachments");
    m.for_each([&](const nt_attach_key& k, const nt_attach& v) {
        if (k.ingress != NT_HOOK_XDP) return;
        out.push_back({k.ifindex, std::string(v.ifname, strnlen(v.ifname, sizeof v.ifname)),
                       std::string(v.netns, strnlen(v.netns, sizeof v.netns)), v.prog_id});
    });
    return out;
}

bool XdpAttacher::ensure(int prog_fd, uint32_t ifindex, const std::string& ifname, const std::string& netns) {
    const uint32_t prog_id = TcAttacher::prog_id_of(prog_fd);
    if (attached_xdp_id(ifindex) == prog_id) return false;
    xdp_program* prog = xdp_program__from_fd(prog_fd);
    if (libxdp_get_error(prog)) throw Error("libxdp: cannot use the uplink XDP program");
    int err = xdp_program__attach(prog, static_cast<int>(ifindex), XDP_MODE_NATIVE, 0);
    xdp_program__close(prog);
    if (err) throw_errno("attach XDP on " + ifname + " (is another XDP program there?)", err);
    uint32_t attached = attached_xdp_id(ifindex);
    BpfMap<nt_attach_key, nt_attach> m(attachments_fd_, "nt_attachments");
    nt_attach v{};
    v.mode = NT_ATTACH_XDP;
    // In dispatcher mode the interface runs libxdp's dispatcher; remember
    // our own program, which is what we detach.
    v.prog_id = prog_id;
    copy_str(v.ifname, ifname);
    copy_str(v.netns, netns);
    m.update(nt_attach_key{ifindex, NT_HOOK_XDP}, v);
    spdlog::info("attached XDP on {} ({})", ifname, attached == prog_id ? "native" : "libxdp dispatcher");
    return true;
}

bool XdpAttacher::replace(int prog_fd, const XdpAttachment& a) {
    const uint32_t prog_id = TcAttacher::prog_id_of(prog_fd);
    if (a.prog_id == prog_id) return false;
    if (attached_xdp_id(a.ifindex) == a.prog_id) {
        // Attached directly (libxdp fell back to a plain native attach):
        // the kernel swaps it atomically if it is still the one we expect.
        int old_fd = bpf_prog_get_fd_by_id(a.prog_id);
        if (old_fd < 0) throw_errno("open XDP program " + std::to_string(a.prog_id) + " on " + a.ifname, errno);
        LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = old_fd);
        int err = bpf_xdp_attach(static_cast<int>(a.ifindex), prog_fd, XDP_FLAGS_REPLACE | XDP_FLAGS_DRV_MODE, &o);
        close(old_fd);
        if (err) throw_errno("replace XDP program on " + a.ifname, err);
    } else {
        // Behind libxdp's dispatcher: add the new program (libxdp swaps in a
        // dispatcher running both: the uplink program passes what it does
        // not drop, so running it twice changes nothing), then remove the
        // old one (another swap).
        xdp_program* prog = xdp_program__from_fd(prog_fd);
        if (libxdp_get_error(prog)) throw Error("libxdp: cannot use the uplink XDP program");
        int err = xdp_program__attach(prog, static_cast<int>(a.ifindex), XDP_MODE_NATIVE, 0);
        xdp_program__close(prog);
        if (err) throw_errno("attach the new XDP program on " + a.ifname, err);
        xdp_program* old = xdp_program__from_id(a.prog_id);
        if (!libxdp_get_error(old)) {
            err = xdp_program__detach(old, static_cast<int>(a.ifindex), XDP_MODE_NATIVE, 0);
            xdp_program__close(old);
            if (err) throw_errno("detach the old XDP program from " + a.ifname, err);
        }
    }
    BpfMap<nt_attach_key, nt_attach> m(attachments_fd_, "nt_attachments");
    nt_attach v{};
    v.mode = NT_ATTACH_XDP;
    v.prog_id = prog_id;
    copy_str(v.ifname, a.ifname);
    copy_str(v.netns, a.netns);
    m.update(nt_attach_key{a.ifindex, NT_HOOK_XDP}, v);
    spdlog::info("updated XDP on {} to program {}", a.ifname, prog_id);
    return true;
}

void XdpAttacher::detach(const XdpAttachment& a) {
    if (a.netns.empty() || netns_exists(a.netns)) {
        NetnsGuard in_ns(a.netns);
        xdp_program* prog = xdp_program__from_id(a.prog_id);
        if (!libxdp_get_error(prog)) {
            int err = xdp_program__detach(prog, static_cast<int>(a.ifindex), XDP_MODE_NATIVE, 0);
            if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
                spdlog::warn("detach XDP from {}: {}", a.ifname, std::strerror(-err));
            xdp_program__close(prog);
        }
    }
    BpfMap<nt_attach_key, nt_attach> m(attachments_fd_, "nt_attachments");
    m.erase(nt_attach_key{a.ifindex, NT_HOOK_XDP});
    spdlog::info("detached XDP from {}", a.ifname);
}

void XdpAttacher::release_lock_dir(const std::string& bpffs) { rmdir((bpffs + "/xdp").c_str()); }

}  // namespace neutrino

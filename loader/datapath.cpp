#include "loader/datapath.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <filesystem>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "tap.skel.h"

namespace neutrino {

std::unique_ptr<Datapath> Datapath::load(const std::optional<std::string>& maps_pin_dir) {
    std::unique_ptr<Datapath> dp(new Datapath());
    dp->skel_ = tap_bpf__open();
    if (!dp->skel_) throw_errno("open BPF object tap.bpf.o", errno);
    bpf_map* m;
    bpf_object__for_each_map(m, dp->skel_->obj) {
        if (maps_pin_dir) {
            std::string path = *maps_pin_dir + "/" + bpf_map__name(m);
            int err = bpf_map__set_pin_path(m, path.c_str());
            if (err) throw_errno("set pin path " + path, err);
        }
    }
    int err = tap_bpf__load(dp->skel_);
    if (err)
        throw_errno("load BPF programs tap_ingress/tap_egress (run with -vv for the verifier log)",
                    err);
    dp->tap_ingress_ = bpf_program__fd(dp->skel_->progs.tap_ingress);
    dp->tap_egress_ = bpf_program__fd(dp->skel_->progs.tap_egress);
    bpf_object__for_each_map(m, dp->skel_->obj) dp->maps_[bpf_map__name(m)] = bpf_map__fd(m);
    return dp;
}

std::unique_ptr<Datapath> Datapath::open_pinned(const PinPaths& pins) {
    std::unique_ptr<Datapath> dp(new Datapath());
    dp->owns_fds_ = true;
    auto get = [](const std::string& path) {
        int fd = bpf_obj_get(path.c_str());
        if (fd < 0) throw_errno("open pinned " + path, errno);
        return fd;
    };
    dp->tap_ingress_ = get(pins.progs + "/" + kProgTapIngress);
    dp->tap_egress_ = get(pins.progs + "/" + kProgTapEgress);
    for (const auto& e : std::filesystem::directory_iterator(pins.maps))
        dp->maps_[e.path().filename().string()] = get(e.path().string());
    return dp;
}

Datapath::~Datapath() {
    if (skel_) tap_bpf__destroy(skel_);
    if (!owns_fds_) return;
    if (tap_ingress_ >= 0) close(tap_ingress_);
    if (tap_egress_ >= 0) close(tap_egress_);
    for (auto& [name, fd] : maps_) close(fd);
}

int Datapath::map_fd(const std::string& name) const {
    auto it = maps_.find(name);
    if (it == maps_.end()) throw Error("datapath has no map named " + name);
    return it->second;
}

void Datapath::pin_programs(const PinPaths& pins) const {
    for (auto [name, fd] : {std::pair{kProgTapIngress, tap_ingress_}, {kProgTapEgress, tap_egress_}}) {
        std::string path = pins.progs + "/" + name;
        unlink(path.c_str());  // replacing a pin is how a new build takes over
        if (bpf_obj_pin(fd, path.c_str()) != 0) throw_errno("pin " + path, errno);
    }
}

}  // namespace neutrino

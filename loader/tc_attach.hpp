// Attaching programs at a TC hook: a tcx bpf_link (pinned) where the kernel
// has tcx (6.6+), else a cls_bpf filter on clsact through libbpf's bpf_tc_*.
// Every attachment is recorded in the instance's nt_attachments map, and only
// recorded attachments whose program id is ours are ever detached.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "neutrino/abi.h"

namespace neutrino {

enum class TcMode { Auto, Tcx, Cls };
TcMode parse_tc_mode(const std::string& s);  // auto|tcx|cls
const char* to_string(TcMode m);

struct TcAttachment {
    uint32_t ifindex = 0;
    bool ingress = true;
    std::string ifname;
    std::string netns;  // "" = the loader's namespace
    uint32_t mode = 0;  // enum nt_attach_mode
    uint32_t flags = 0; // enum nt_attach_flags
    uint32_t prog_id = 0;
};

class TcAttacher {
public:
    // attachments_fd: the pinned nt_attachments map; links_dir: where tcx
    // links are pinned.
    TcAttacher(int attachments_fd, std::string links_dir, TcMode mode);

    std::vector<TcAttachment> list() const;
    // Attaches prog_fd unless the same program is attached already; the
    // calling thread must be in the interface's namespace.
    // Returns true when it attached something new.
    bool ensure(int prog_fd, uint32_t ifindex, bool ingress, const std::string& ifname,
                const std::string& netns);
    // Detaches a recorded attachment (enters its namespace itself).
    void detach(const TcAttachment& a);

    static uint32_t prog_id_of(int prog_fd);

private:
    std::string link_pin(uint32_t ifindex, bool ingress) const;
    bool tcx_alive(const std::string& pin) const;
    void record(const TcAttachment& a);
    void forget(uint32_t ifindex, bool ingress);

    int attachments_fd_;
    std::string links_dir_;
    TcMode mode_;
};

}  // namespace neutrino

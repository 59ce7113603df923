// Attaching programs at a TC hook: a tcx bpf_link (pinned) where the kernel
// has tcx (6.6+), else a cls_bpf filter on clsact through libbpf's bpf_tc_*.
// Every attachment is recorded in the instance's nt_attachments map, and only
// recorded attachments whose program id is ours are ever detached.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "maps/bpf_map.hpp"
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

// One attacher serves one apply or destroy: it reads nt_attachments once and
// keeps a per-interface view of it, updated with every record and forget, so
// a run over N hooks costs O(N) map operations, not O(N^2). Another loader
// writing the same instance's map meanwhile is not supported (as before).
class TcAttacher {
public:
    // attachments_fd: the pinned nt_attachments map; links_dir: where tcx
    // links are pinned.
    TcAttacher(int attachments_fd, std::string links_dir, TcMode mode);

    std::vector<TcAttachment> list() const;
    // Attaches prog_fd unless the same program is attached already; the
    // calling thread must be in the interface's namespace. A tcx link of an
    // older program is updated in place (atomic, no detach window).
    // Returns true when it attached something new.
    bool ensure(int prog_fd, uint32_t ifindex, bool ingress, const std::string& ifname,
                const std::string& netns);
    // Detaches a recorded attachment (enters its namespace itself).
    void detach(const TcAttachment& a);

    static uint32_t prog_id_of(int prog_fd);

private:
    // The recorded TC hooks of one interface: [0] egress, [1] ingress.
    using Hooks = std::array<std::optional<nt_attach>, 2>;

    std::unordered_map<uint32_t, Hooks>& view() const;
    const std::optional<nt_attach>& recorded(uint32_t ifindex, bool ingress) const;
    uint32_t cached_prog_id(int prog_fd);
    std::string link_pin(uint32_t ifindex, bool ingress) const;
    bool tcx_alive(const std::string& pin) const;
    bool tcx_update(const std::string& pin, int prog_fd) const;
    void record(const TcAttachment& a);
    void forget(uint32_t ifindex, bool ingress);

    BpfMap<nt_attach_key, nt_attach> map_;
    std::string links_dir_;
    TcMode mode_;
    mutable std::optional<std::unordered_map<uint32_t, Hooks>> view_;
    std::map<int, uint32_t> prog_ids_;  // prog fd -> id, asked once
};

}  // namespace neutrino

// Attaching XDP programs through libxdp (which falls back to a plain native
// attach when its multi-program dispatcher cannot load), recorded in the
// instance's nt_attachments map like the TC hooks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neutrino {

struct XdpAttachment {
    uint32_t ifindex = 0;
    std::string ifname;
    std::string netns;
    uint32_t prog_id = 0;
};

class XdpAttacher {
public:
    explicit XdpAttacher(int attachments_fd);
    std::vector<XdpAttachment> list() const;
    // The calling thread must be in the interface's namespace. Returns true
    // when it attached something new.
    bool ensure(int prog_fd, uint32_t ifindex, const std::string& ifname, const std::string& netns);
    // Moves a recorded attachment to prog_fd without a moment with no
    // program (an atomic native replace, or add-then-remove behind libxdp's
    // dispatcher). The calling thread must be in the interface's namespace.
    // Returns false when prog_fd is attached already.
    bool replace(int prog_fd, const XdpAttachment& a);
    void detach(const XdpAttachment& a);  // enters the namespace itself
    // libxdp keeps a lock directory "xdp" in bpffs; once no XDP program of
    // libxdp's is left it is empty, and removed (rmdir refuses otherwise, so
    // another libxdp user's state is never touched).
    static void release_lock_dir(const std::string& bpffs);

private:
    int attachments_fd_;
};

}  // namespace neutrino

#include "loader/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "loader/error.hpp"

namespace neutrino {

namespace {

std::string path_of(const std::string& name) { return std::string(kNetnsDir) + "/" + name; }

// As iproute2 does: /run/netns is a shared mount so namespaces created here
// are visible to every mount namespace (e.g. `ip netns exec`).
void prepare_netns_dir() {
    mkdir("/run", 0755);
    if (mkdir(kNetnsDir, 0755) != 0 && errno != EEXIST) throw_errno("mkdir /run/netns", errno);
    if (mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
    if (errno != EINVAL) throw_errno("make /run/netns shared", errno);
    if (mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0)
        throw_errno("bind /run/netns", errno);
    if (mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0)
        throw_errno("make /run/netns shared", errno);
}

}  // namespace

bool netns_exists(const std::string& name) {
    struct stat st {};
    return stat(path_of(name).c_str(), &st) == 0;
}

void create_netns(const std::string& name) {
    prepare_netns_dir();
    const std::string path = path_of(name);
    int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL, 0);
    if (fd < 0) throw_errno("create netns " + name, errno);
    close(fd);
    // unshare() moves only the calling thread, so do it in a thread of its
    // own and leave this one where it is.
    int err = 0;
    std::thread t([&] {
        if (unshare(CLONE_NEWNET) != 0) {
            err = errno;
            return;
        }
        if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0)
            err = errno;
    });
    t.join();
    if (err) {
        unlink(path.c_str());
        throw_errno("create netns " + name, err);
    }
}

void delete_netns(const std::string& name) {
    const std::string path = path_of(name);
    if (!netns_exists(name)) return;
    umount2(path.c_str(), MNT_DETACH);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("delete netns " + name, errno);
}

int open_netns_fd(const std::string& name) {
    int fd = open(path_of(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("open netns " + name, errno);
    return fd;
}

NetnsGuard::NetnsGuard(const std::string& name) {
    if (name.empty()) return;
    int target = open_netns_fd(name);
    saved_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved_fd_ < 0) {
        int e = errno;
        close(target);
        throw_errno("open current netns", e);
    }
    if (setns(target, CLONE_NEWNET) != 0) {
        int e = errno;
        close(target);
        close(saved_fd_);
        saved_fd_ = -1;
        throw_errno("enter netns " + name, e);
    }
    close(target);
}

NetnsGuard::~NetnsGuard() {
    if (saved_fd_ < 0) return;
    setns(saved_fd_, CLONE_NEWNET);
    close(saved_fd_);
}

}  // namespace neutrino

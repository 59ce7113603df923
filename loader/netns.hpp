// Named network namespaces, compatible with `ip netns` (/run/netns/NAME),
// and a guard that moves the calling thread into one and back.
#pragma once

#include <string>

namespace neutrino {

inline constexpr const char* kNetnsDir = "/run/netns";

void create_netns(const std::string& name);  // fails if it exists
void delete_netns(const std::string& name);  // no-op if it does not exist
bool netns_exists(const std::string& name);

// Enters the named netns for the calling thread; restores on destruction.
// An empty name means "stay where you are". Sockets (netlink, BPF links by
// ifindex) opened inside act on that namespace.
class NetnsGuard {
public:
    explicit NetnsGuard(const std::string& name);
    ~NetnsGuard();
    NetnsGuard(const NetnsGuard&) = delete;
    NetnsGuard& operator=(const NetnsGuard&) = delete;

private:
    int saved_fd_ = -1;
};

// An fd of the named namespace (caller closes), for moving links into it.
int open_netns_fd(const std::string& name);

}  // namespace neutrino

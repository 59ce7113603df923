// A sandbox host built from a desired state: the host itself is a network
// namespace, each local VM port gets a VM namespace whose eth0 (the port's
// MAC, fixed IPs and MTU) is the peer of the port's tap. This is what Nova
// and libvirt do on a real host, built from namespaces and veths.
#pragma once

#include <string>
#include <vector>

#include "maps/state.hpp"

namespace neutrino {

struct SandboxVm {
    std::string port_id;
    std::string netns;     // <prefix>-<port name>
    std::string tap;       // host end, in the host namespace
    std::string network_id;
    std::vector<IpAddr> ips;
};

struct Sandbox {
    std::string host_netns;  // <prefix>-host
    std::vector<SandboxVm> vms;
};

// Pure: what sandbox_up would build.
Sandbox plan_sandbox(const State& state, const std::string& host, const std::string& prefix);
// Builds it; on failure, removes what it made and rethrows.
Sandbox sandbox_up(const State& state, const std::string& host, const std::string& prefix);
// Removes the namespaces (their veths go with them). Idempotent.
void sandbox_down(const Sandbox& sb);

}  // namespace neutrino

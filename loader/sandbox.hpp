// A sandbox built from a desired state: every host with VM ports is a network
// namespace holding one tap per port; each VM is a namespace whose eth0 (the
// port's MAC, fixed IPs, MTU) is the tap's veth peer, as Nova and libvirt
// wire a real host. With several hosts, an underlay namespace joins them: a
// bridge for the tunnel network (each host's "vtep0" holds its tunnel_ip) and
// one bridge per physnet (each host's mapped interface, e.g. eth1).
#pragma once

#include <string>
#include <vector>

#include "maps/state.hpp"

namespace neutrino {

struct SandboxVm {
    std::string port_id;
    std::string name;      // the port's name
    std::string netns;     // <prefix>-<port name>
    std::string tap;       // host end, in the host namespace
    std::string network_id;
    std::vector<IpAddr> ips;
};

struct SandboxHost {
    std::string name;      // the state's host name
    std::string netns;     // <prefix>-host (one host) or <prefix>-<host>
    std::string instance;  // <prefix> (one host) or <prefix>-<host>
    std::vector<SandboxVm> vms;
};

struct Sandbox {
    std::string prefix;
    std::string underlay_netns;  // "" with a single host
    std::vector<SandboxHost> hosts;

    std::vector<SandboxVm> all_vms() const;
};

inline constexpr const char* kSandboxTunnelInterface = "vtep0";

// Pure: what sandbox_up would build.
Sandbox plan_sandbox(const State& state, const std::string& prefix);
// Builds it; on failure, removes what it made and rethrows.
Sandbox sandbox_up(const State& state, const std::string& prefix);
// Removes the namespaces (their veths go with them). Idempotent.
void sandbox_down(const Sandbox& sb);

}  // namespace neutrino

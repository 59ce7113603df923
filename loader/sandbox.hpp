// A sandbox built from a desired state: every host with VM ports is a network
// namespace holding one tap per port; each VM is a namespace whose eth0 (the
// port's MAC, fixed IPs, MTU) is the tap's veth peer, as Nova and libvirt
// wire a real host. With several hosts, an underlay namespace joins them: a
// bridge for the tunnel network (each host's "vtep0" holds its tunnel_ip) and
// one bridge per physnet (each host's mapped interface, e.g. eth1).
//
// An external network (router:external, flat, on a physnet some host maps)
// gets an "outside" namespace on its physnet bridge: it holds the external
// subnet's gateway address, as the upstream router would, and one address
// beyond it (kSandboxOutsideHost, on lo) that plays the internet. Then a
// single host has an underlay too, for its physnet.
//
// A VM whose port is offered an address by DHCP (a fixed IPv4 address on a
// subnet with enable_dhcp) starts with no IPv4 address: once the datapath is
// applied, sandbox_dhcp runs a real DHCP client in it (busybox udhcpc, one
// shot), as a VM would at boot. Other fixed IPs (IPv6, subnets without DHCP)
// are configured statically, as a config drive would.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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
    std::optional<IpAddr> dhcp_ip;  // the address its port is offered by DHCP
};

struct SandboxHost {
    std::string name;      // the state's host name
    std::string netns;     // <prefix>-host (one host) or <prefix>-<host>
    std::string instance;  // <prefix> (one host) or <prefix>-<host>
    std::vector<SandboxVm> vms;
};

struct Sandbox {
    std::string prefix;
    std::string underlay_netns;  // "" with a single host and no physnet
    std::string outside_netns;   // "" without an external network to reach
    std::string outside_network_id;
    IpAddr outside_address;      // its address on the external network (the subnet's gateway)
    std::vector<SandboxHost> hosts;

    std::vector<SandboxVm> all_vms() const;
};

inline constexpr const char* kSandboxTunnelInterface = "vtep0";
inline constexpr const char* kSandboxOutsideInterface = "ext0";  // in the outside namespace
inline constexpr const char* kSandboxOutsideHost = "198.51.100.1";  // TEST-NET-2: "the internet"

// The external network the sandbox's outside namespace joins: the first
// flat router:external network whose physnet a sandbox host maps and which
// has an IPv4 subnet with a gateway. nullptr when there is none.
const Network* sandbox_outside_network(const State& state);

// Pure: what sandbox_up would build.
Sandbox plan_sandbox(const State& state, const std::string& prefix);
// Builds it; on failure, removes what it made and rethrows.
Sandbox sandbox_up(const State& state, const std::string& prefix);
// Removes the namespaces (their veths go with them). Idempotent.
void sandbox_down(const Sandbox& sb);

// What a VM's DHCP client obtained and applied to its eth0.
struct SandboxLease {
    std::string netns;
    IpAddr ip;
    int prefix = 0;
    std::string router;  // "" when the lease has none
    std::string server;  // the server identifier
    uint32_t mtu = 0;    // 0 when the lease has none
    uint64_t lease_seconds = 0;  // 4294967295 = infinite
};

// Runs udhcpc once (exits when bound, gives up after a few tries) in every VM
// with a dhcp_ip, all at once, each forked into the VM's namespace; its
// script sets address (with the lease as its lifetime), MTU and routes on the
// VM's eth0 and nothing outside it. Every client has exited or been killed
// when this returns. Throws Error naming each VM that got no lease, or
// another address than its port's, within `timeout`.
std::vector<SandboxLease> sandbox_dhcp(const Sandbox& sb, std::chrono::seconds timeout = std::chrono::seconds(20));

}  // namespace neutrino

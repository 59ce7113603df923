// iptables-legacy table size through the kernel's own interface, kept apart
// from the rest: the netfilter UAPI headers clash with libc's net headers.
#pragma once

#include <cstdint>
#include <string>

namespace nt_bench {

struct IptInfo {
    bool ok = false;
    uint32_t entries = 0;  // rules, including chain heads and policies
    uint32_t size = 0;     // bytes of the rule blob the kernel holds
    std::string error;
};

// IPT_SO_GET_INFO for one table of the calling thread's network namespace.
IptInfo ipt_info(const std::string& table);

}  // namespace nt_bench

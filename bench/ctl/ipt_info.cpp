#include "ipt_info.hpp"

#include <linux/netfilter_ipv4/ip_tables.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nt_bench {

IptInfo ipt_info(const std::string& table) {
    IptInfo r;
    int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (s < 0) {
        r.error = std::string("socket: ") + std::strerror(errno);
        return r;
    }
    ipt_getinfo info{};
    std::strncpy(info.name, table.c_str(), sizeof info.name - 1);
    socklen_t len = sizeof info;
    if (getsockopt(s, IPPROTO_IP, IPT_SO_GET_INFO, &info, &len) != 0) {
        r.error = std::string("IPT_SO_GET_INFO ") + table + ": " + std::strerror(errno);
    } else {
        r.ok = true;
        r.entries = info.num_entries;
        r.size = info.size;
    }
    close(s);
    return r;
}

}  // namespace nt_bench

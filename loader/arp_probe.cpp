#include "loader/arp_probe.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "loader/error.hpp"

namespace neutrino {

void send_arp_request(const std::string& ifname, uint16_t vlan, const MacAddr& mac, const IpAddr& source,
                      const IpAddr& target) {
    if (!source.is_v4() || !target.is_v4()) throw Error("ARP request: IPv4 addresses only");
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (!ifindex) throw_errno("ARP request: interface " + ifname, errno);

    std::vector<uint8_t> f;
    auto put16 = [&](uint16_t v) {
        f.push_back(static_cast<uint8_t>(v >> 8));
        f.push_back(static_cast<uint8_t>(v));
    };
    auto put32 = [&](uint32_t v) {
        put16(static_cast<uint16_t>(v >> 16));
        put16(static_cast<uint16_t>(v));
    };
    f.insert(f.end(), 6, 0xff);
    f.insert(f.end(), mac.b.begin(), mac.b.end());
    if (vlan) {
        put16(ETH_P_8021Q);
        put16(vlan & 0x0fff);
    }
    put16(ETH_P_ARP);
    put16(1);         // hardware: Ethernet
    put16(ETH_P_IP);  // protocol: IPv4
    f.push_back(6);
    f.push_back(4);
    put16(1);  // request
    f.insert(f.end(), mac.b.begin(), mac.b.end());
    put32(source.v4_host_order());
    f.insert(f.end(), 6, 0);
    put32(target.v4_host_order());
    f.resize(std::max<size_t>(f.size(), 60), 0);  // Ethernet's minimum, without FCS

    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: send only, receive nothing
    if (s < 0) throw_errno("ARP request: packet socket", errno);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = static_cast<int>(ifindex);
    ll.sll_halen = 6;
    std::memset(ll.sll_addr, 0xff, 6);
    ssize_t n = sendto(s, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll);
    int err = errno;
    close(s);
    if (n != static_cast<ssize_t>(f.size())) throw_errno("ARP request for " + target.str() + " on " + ifname, err);
}

}  // namespace neutrino

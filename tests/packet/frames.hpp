// Frames the tests send, built with libtins: an implementation independent of
// the datapath's own parsers, so a test's expected bytes are not the code
// under test agreeing with itself.
#pragma once

// Single headers, not <tins/tins.h>: that one pulls in pcap, whose struct
// bpf_insn collides with the kernel's in <linux/bpf.h>.
#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/rawpdu.h>
#include <tins/udp.h>

#include "fixture.hpp"

namespace nt_test {

using Mac = Tins::HWAddress<6>;
using Ip = Tins::IPv4Address;

inline const Mac kBroadcast = Mac::broadcast;
inline const Mac kForeignMac{"de:ad:be:ef:00:01"};  // in no network of the state
inline const Mac kMulticast{"01:00:5e:00:00:fb"};   // IPv4 multicast 224.0.0.251

// A small UDP datagram between two MAC/IP endpoints.
inline Bytes udp(const Mac& src_mac, const Mac& dst_mac, const Ip& src, const Ip& dst) {
    return bytes(Tins::EthernetII(dst_mac, src_mac) / Tins::IP(dst, src) / Tins::UDP(5000, 5001) /
                 Tins::RawPDU("neutrino packet test"));
}

// UDP from one port to another, with both ports' real addresses.
inline Bytes udp(const TestPort& from, const TestPort& to) { return udp(from.mac, to.mac, from.ip, to.ip); }

inline Bytes udp_broadcast(const TestPort& from) {
    return udp(from.mac, kBroadcast, from.ip, Ip::broadcast);
}

// "who-has asked tell sender_ip", broadcast, as a VM's stack sends it.
inline Bytes arp_request(const Mac& sender_mac, const Ip& sender_ip, const Ip& asked) {
    return bytes(Tins::ARP::make_arp_request(asked, sender_ip, sender_mac));
}
inline Bytes arp_request(const TestPort& from, const Ip& asked) { return arp_request(from.mac, from.ip, asked); }

// "ip is-at mac", sent to the asker.
inline Bytes arp_reply(const Mac& mac, const Ip& ip, const Mac& to_mac, const Ip& to_ip) {
    return bytes(Tins::ARP::make_arp_reply(to_ip, ip, to_mac, mac));
}

}  // namespace nt_test

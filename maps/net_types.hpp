// Value types for addresses: MAC, IP (v4 or v6), CIDR. Parsing is strict and
// returns nullopt on any malformed input; formatting is canonical.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "neutrino/abi.h"

namespace neutrino {

struct MacAddr {
    std::array<uint8_t, 6> b{};

    static std::optional<MacAddr> parse(std::string_view s);  // "fa:16:3e:a1:00:01"
    std::string str() const;
    bool is_multicast() const { return b[0] & 1; }
    bool is_zero() const { return b == std::array<uint8_t, 6>{}; }
    auto operator<=>(const MacAddr&) const = default;
};

// An address of either family, stored as the ABI stores it: IPv6 as is,
// IPv4 as an IPv4-mapped IPv6 address.
struct IpAddr {
    std::array<uint8_t, 16> b{};

    static std::optional<IpAddr> parse(std::string_view s);
    static IpAddr v4(uint32_t host_order);
    bool is_v4() const;
    int family() const { return is_v4() ? 4 : 6; }
    uint32_t v4_host_order() const;  // only for is_v4()
    std::string str() const;
    union nt_ip to_abi() const;
    auto operator<=>(const IpAddr&) const = default;
};

struct Cidr {
    IpAddr addr;
    int prefix = 0;  // within the address family: 0..32 or 0..128

    // Accepts "a.b.c.d/n" and "x::y/n"; with allow_host_bits=false, an address
    // with bits set past the prefix is rejected (Neutron requires a network).
    static std::optional<Cidr> parse(std::string_view s, bool allow_host_bits = false);
    static Cidr host(const IpAddr& a) { return Cidr{a, a.is_v4() ? 32 : 128}; }
    bool contains(const IpAddr& a) const;
    Cidr network() const;  // host bits cleared
    // Bits this prefix covers in the 16-byte ABI form (IPv4: 96 + prefix).
    int abi_bits() const { return addr.is_v4() ? 96 + prefix : prefix; }
    int family() const { return addr.family(); }
    int max_prefix() const { return addr.is_v4() ? 32 : 128; }
    std::string str() const;
    auto operator<=>(const Cidr&) const = default;
};

}  // namespace neutrino

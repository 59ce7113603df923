#include "maps/net_types.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace neutrino {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::array<uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Number of leading bits of the 128-bit representation a prefix covers.
int stored_prefix_bits(const Cidr& c) { return c.addr.is_v4() ? 96 + c.prefix : c.prefix; }

// True when a and b agree on their first `bits` bits.
bool same_leading_bits(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                       int bits) {
    int full = bits / 8;
    if (std::memcmp(a.data(), b.data(), full) != 0) return false;
    int rest = bits % 8;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

Cidr Cidr::network() const {
    Cidr c = *this;
    for (int i = stored_prefix_bits(c); i < 128; ++i) c.addr.b[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
    return c;
}

std::optional<MacAddr> MacAddr::parse(std::string_view s) {
    // Exactly "xx:xx:xx:xx:xx:xx": no single-digit groups, no '-' or '.' forms.
    if (s.size() != 17) return std::nullopt;
    MacAddr m;
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex_digit(s[i * 3]);
        int lo = hex_digit(s[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && s[i * 3 + 2] != ':') return std::nullopt;
        m.b[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return m;
}

std::string MacAddr::str() const {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(17);
    for (size_t i = 0; i < 6; ++i) {
        if (i) out += ':';
        out += digits[b[i] >> 4];
        out += digits[b[i] & 0xf];
    }
    return out;
}

std::optional<IpAddr> IpAddr::parse(std::string_view s) {
    if (s.empty() || s.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string z(s);  // inet_pton needs a NUL-terminated string
    IpAddr a;
    if (z.find(':') == std::string::npos) {
        uint8_t v4[4];
        if (inet_pton(AF_INET, z.c_str(), v4) != 1) return std::nullopt;
        std::memcpy(a.b.data(), kV4MappedPrefix.data(), 12);
        std::memcpy(a.b.data() + 12, v4, 4);
        return a;
    }
    if (inet_pton(AF_INET6, z.c_str(), a.b.data()) != 1) return std::nullopt;
    // "::ffff:1.2.3.4" would be indistinguishable from the IPv4 address once
    // stored, so an IPv6 literal may not name an IPv4-mapped address.
    if (a.is_v4()) return std::nullopt;
    return a;
}

IpAddr IpAddr::v4(uint32_t host_order) {
    IpAddr a;
    std::memcpy(a.b.data(), kV4MappedPrefix.data(), 12);
    a.b[12] = static_cast<uint8_t>(host_order >> 24);
    a.b[13] = static_cast<uint8_t>(host_order >> 16);
    a.b[14] = static_cast<uint8_t>(host_order >> 8);
    a.b[15] = static_cast<uint8_t>(host_order);
    return a;
}

bool IpAddr::is_v4() const { return std::memcmp(b.data(), kV4MappedPrefix.data(), 12) == 0; }

uint32_t IpAddr::v4_host_order() const {
    return uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 | uint32_t{b[14]} << 8 | b[15];
}

std::string IpAddr::str() const {
    char buf[INET6_ADDRSTRLEN];
    const char* r = is_v4() ? inet_ntop(AF_INET, b.data() + 12, buf, sizeof buf)
                            : inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
    return r ? std::string(r) : std::string("?");
}

union nt_ip IpAddr::to_abi() const {
    union nt_ip out;
    std::memcpy(out.b, b.data(), sizeof out.b);
    return out;
}

std::optional<Cidr> Cidr::parse(std::string_view s, bool allow_host_bits) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = IpAddr::parse(s.substr(0, slash));
    if (!addr) return std::nullopt;
    std::string_view len = s.substr(slash + 1);
    // Plain decimal only: no sign, no spaces, no leading zeros ("/024").
    if (len.empty() || len.size() > 3 || (len.size() > 1 && len[0] == '0')) return std::nullopt;
    int prefix = 0;
    for (char c : len) {
        if (c < '0' || c > '9') return std::nullopt;
        prefix = prefix * 10 + (c - '0');
    }
    Cidr c{*addr, prefix};
    if (prefix > c.max_prefix()) return std::nullopt;
    if (!allow_host_bits) {
        std::array<uint8_t, 16> zero_host = addr->b;
        int bits = stored_prefix_bits(c);
        for (int i = bits; i < 128; ++i) zero_host[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
        if (zero_host != addr->b) return std::nullopt;
    }
    return c;
}

bool Cidr::contains(const IpAddr& a) const {
    if (a.is_v4() != addr.is_v4()) return false;
    return same_leading_bits(addr.b, a.b, stored_prefix_bits(*this));
}

std::string Cidr::str() const { return addr.str() + "/" + std::to_string(prefix); }

}  // namespace neutrino

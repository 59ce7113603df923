#include <gtest/gtest.h>

#include "maps/net_types.hpp"

using namespace neutrino;

TEST(MacAddr, ParsesAndPrintsLowercase) {
    auto m = MacAddr::parse("FA:16:3E:a1:00:0B");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->b, (std::array<uint8_t, 6>{0xfa, 0x16, 0x3e, 0xa1, 0x00, 0x0b}));
    EXPECT_EQ(m->str(), "fa:16:3e:a1:00:0b");
}

TEST(MacAddr, RejectsMalformed) {
    for (const char* s : {"", "fa:16:3e:a1:00", "fa:16:3e:a1:00:01:02", "fa:16:3e:a1:0:01", "fa-16-3e-a1-00-01",
                          "fa:16:3e:a1:00:0g", "fa:16:3e:a1:00:01 ", " fa:16:3e:a1:00:01", "fa163ea10001",
                          "fa:16:3e:a1:00:1", "fa:16:3e:a1::001"})
        EXPECT_FALSE(MacAddr::parse(s)) << s;
}

TEST(MacAddr, MulticastAndZero) {
    EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01")->is_multicast());
    EXPECT_TRUE(MacAddr::parse("ff:ff:ff:ff:ff:ff")->is_multicast());
    EXPECT_FALSE(MacAddr::parse("fa:16:3e:00:00:01")->is_multicast());
    EXPECT_TRUE(MacAddr::parse("00:00:00:00:00:00")->is_zero());
    EXPECT_FALSE(MacAddr::parse("00:00:00:00:00:01")->is_zero());
}

TEST(IpAddr, V4IsStoredMapped) {
    auto a = IpAddr::parse("192.168.1.17");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->family(), 4);
    EXPECT_EQ(a->b, (std::array<uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 17}));
    EXPECT_EQ(a->v4_host_order(), 0xc0a80111u);
    EXPECT_EQ(a->str(), "192.168.1.17");
    EXPECT_EQ(IpAddr::v4(0xc0a80111u), *a);
}

TEST(IpAddr, V6ParsesAndPrintsCanonical) {
    auto a = IpAddr::parse("2001:DB8:0:0:0:0:0:1");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->is_v4());
    EXPECT_EQ(a->family(), 6);
    EXPECT_EQ(a->b[0], 0x20);
    EXPECT_EQ(a->b[15], 0x01);
    EXPECT_EQ(a->str(), "2001:db8::1");
    EXPECT_EQ(IpAddr::parse("::")->str(), "::");
}

TEST(IpAddr, RejectsMalformed) {
    for (const char* s : {"", "1.2.3", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/32", "2001:db8::1::2",
                          "fe80::1%eth0", "01.2.3.4", "hello", "2001:db8:::1"})
        EXPECT_FALSE(IpAddr::parse(s)) << s;
}

TEST(IpAddr, RejectsV4MappedV6Literal) {
    // Would be indistinguishable from 1.2.3.4 once stored.
    EXPECT_FALSE(IpAddr::parse("::ffff:1.2.3.4"));
}

TEST(IpAddr, ToAbiCopiesBytes) {
    auto a = *IpAddr::parse("10.0.0.1");
    union nt_ip abi = a.to_abi();
    for (size_t i = 0; i < 16; ++i) EXPECT_EQ(abi.b[i], a.b[i]) << i;
}

TEST(IpAddr, OrdersByBytes) {
    EXPECT_LT(*IpAddr::parse("10.0.0.2"), *IpAddr::parse("10.0.0.10"));
    EXPECT_LT(*IpAddr::parse("10.0.0.2"), *IpAddr::parse("2001:db8::1"));  // mapped v4 sorts first
}

TEST(Cidr, ParsesNetworks) {
    auto c = Cidr::parse("192.168.1.0/24");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->prefix, 24);
    EXPECT_EQ(c->family(), 4);
    EXPECT_EQ(c->max_prefix(), 32);
    EXPECT_EQ(c->str(), "192.168.1.0/24");
    auto v6 = Cidr::parse("2001:db8:1::/64");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family(), 6);
    EXPECT_EQ(v6->str(), "2001:db8:1::/64");
    EXPECT_TRUE(Cidr::parse("0.0.0.0/0"));
    EXPECT_TRUE(Cidr::parse("::/0"));
    EXPECT_TRUE(Cidr::parse("10.1.2.3/32"));
    EXPECT_TRUE(Cidr::parse("2001:db8::1/128"));
}

TEST(Cidr, RejectsHostBitsUnlessAllowed) {
    EXPECT_FALSE(Cidr::parse("192.168.1.5/24"));
    EXPECT_FALSE(Cidr::parse("10.0.0.1/31"));
    EXPECT_FALSE(Cidr::parse("2001:db8::1/64"));
    auto c = Cidr::parse("192.168.1.5/24", true);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->str(), "192.168.1.5/24");
}

TEST(Cidr, RejectsMalformed) {
    for (const char* s : {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/ 8",
                          "10.0.0.0/08", "10.0.0.0/8/8", "/8", "10.0.0/8", "10.0.0.0/1000", "10.0.0.0/+8"})
        EXPECT_FALSE(Cidr::parse(s, true)) << s;
}

TEST(Cidr, Contains) {
    auto c = *Cidr::parse("192.168.1.0/24");
    EXPECT_TRUE(c.contains(*IpAddr::parse("192.168.1.0")));
    EXPECT_TRUE(c.contains(*IpAddr::parse("192.168.1.255")));
    EXPECT_FALSE(c.contains(*IpAddr::parse("192.168.2.1")));
    EXPECT_FALSE(c.contains(*IpAddr::parse("2001:db8::1")));

    auto odd = *Cidr::parse("10.0.0.0/13");  // prefix not on a byte boundary
    EXPECT_TRUE(odd.contains(*IpAddr::parse("10.7.255.255")));
    EXPECT_FALSE(odd.contains(*IpAddr::parse("10.8.0.0")));
}

TEST(Cidr, DefaultRoutesStayInTheirFamily) {
    EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddr::parse("203.0.113.9")));
    EXPECT_FALSE(Cidr::parse("0.0.0.0/0")->contains(*IpAddr::parse("2001:db8::1")));
    EXPECT_TRUE(Cidr::parse("::/0")->contains(*IpAddr::parse("2001:db8::1")));
    EXPECT_FALSE(Cidr::parse("::/0")->contains(*IpAddr::parse("203.0.113.9")));
}

TEST(Cidr, HostPrefix) {
    EXPECT_EQ(Cidr::host(*IpAddr::parse("10.0.0.7")).str(), "10.0.0.7/32");
    EXPECT_EQ(Cidr::host(*IpAddr::parse("2001:db8::7")).str(), "2001:db8::7/128");
}

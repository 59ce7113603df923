// `neutrino stats --prometheus`: the exposition text for a small input, exactly.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tools/prometheus.hpp"

using namespace neutrino;
using namespace neutrino::cli;

namespace {

std::vector<DropRow> drops() {
    return {{3, "spoofed-mac", "source MAC is not the port's", {5, 420}}, {4, "spoofed-ip", "", {0, 0}}};
}

std::vector<PortRow> ports() {
    PortRow p;
    p.id = "c1eef425-c0a4";
    p.name = "web \"1\"\\a\nb";  // quote, backslash and newline: all three escapes
    p.ifname = "tapc1eef425-c0";
    p.network_id = "net-a";
    p.stats.from_vm = {10, 1000};
    p.stats.to_vm = {9, 900};
    p.stats.arp_reply = {2, 84};
    p.stats.flooded = {1, 42};
    p.stats.dropped = {5, 420};
    return {p};
}

std::vector<UplinkRow> uplinks() {
    UplinkRow named;
    named.ifindex = 3;
    named.ifname = "vtep0";
    named.stats.encap = {7, 700};
    named.stats.decap = {6, 600};
    UplinkRow unnamed;  // its attachment is gone: named by ifindex
    unnamed.ifindex = 12;
    unnamed.stats.dropped = {1, 60};
    return {named, unnamed};
}

}  // namespace

TEST(Prometheus, LabelValueEscapes) {
    EXPECT_EQ(prometheus_label_value("plain-name_1"), "plain-name_1");
    EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    EXPECT_EQ(prometheus_label_value("tab\tstays"), "tab\tstays");
}

TEST(Prometheus, ExactText) {
    const std::string port = "{port=\"c1eef425-c0a4\",name=\"web \\\"1\\\"\\\\a\\nb\",interface=\"tapc1eef425-c0\","
                             "network=\"net-a\"}";
    const std::string expected =
        "# HELP neutrino_drop_packets_total Packets dropped by the datapath, by reason (`neutrino stats --all` "
        "explains each)\n"
        "# TYPE neutrino_drop_packets_total counter\n"
        "neutrino_drop_packets_total{reason=\"spoofed-mac\"} 5\n"
        "neutrino_drop_packets_total{reason=\"spoofed-ip\"} 0\n"
        "# HELP neutrino_drop_bytes_total Bytes dropped by the datapath, by reason (`neutrino stats --all` "
        "explains each)\n"
        "# TYPE neutrino_drop_bytes_total counter\n"
        "neutrino_drop_bytes_total{reason=\"spoofed-mac\"} 420\n"
        "neutrino_drop_bytes_total{reason=\"spoofed-ip\"} 0\n"
        "# HELP neutrino_port_from_vm_packets_total Packets sent by the VM of a local port (tap TC ingress)\n"
        "# TYPE neutrino_port_from_vm_packets_total counter\n"
        "neutrino_port_from_vm_packets_total" + port + " 10\n"
        "# HELP neutrino_port_from_vm_bytes_total Bytes sent by the VM of a local port (tap TC ingress)\n"
        "# TYPE neutrino_port_from_vm_bytes_total counter\n"
        "neutrino_port_from_vm_bytes_total" + port + " 1000\n"
        "# HELP neutrino_port_to_vm_packets_total Packets delivered to the VM of a local port (tap TC egress)\n"
        "# TYPE neutrino_port_to_vm_packets_total counter\n"
        "neutrino_port_to_vm_packets_total" + port + " 9\n"
        "# HELP neutrino_port_to_vm_bytes_total Bytes delivered to the VM of a local port (tap TC egress)\n"
        "# TYPE neutrino_port_to_vm_bytes_total counter\n"
        "neutrino_port_to_vm_bytes_total" + port + " 900\n"
        "# HELP neutrino_port_arp_reply_packets_total Packets of ARP requests from a local port answered by "
        "the ARP responder\n"
        "# TYPE neutrino_port_arp_reply_packets_total counter\n"
        "neutrino_port_arp_reply_packets_total" + port + " 2\n"
        "# HELP neutrino_port_arp_reply_bytes_total Bytes of ARP requests from a local port answered by the "
        "ARP responder\n"
        "# TYPE neutrino_port_arp_reply_bytes_total counter\n"
        "neutrino_port_arp_reply_bytes_total" + port + " 84\n"
        "# HELP neutrino_port_flooded_packets_total Packets of broadcast, unknown unicast and multicast frames "
        "from a local port replicated\n"
        "# TYPE neutrino_port_flooded_packets_total counter\n"
        "neutrino_port_flooded_packets_total" + port + " 1\n"
        "# HELP neutrino_port_flooded_bytes_total Bytes of broadcast, unknown unicast and multicast frames "
        "from a local port replicated\n"
        "# TYPE neutrino_port_flooded_bytes_total counter\n"
        "neutrino_port_flooded_bytes_total" + port + " 42\n"
        "# HELP neutrino_port_dropped_packets_total Packets dropped on a local port\n"
        "# TYPE neutrino_port_dropped_packets_total counter\n"
        "neutrino_port_dropped_packets_total" + port + " 5\n"
        "# HELP neutrino_port_dropped_bytes_total Bytes dropped on a local port\n"
        "# TYPE neutrino_port_dropped_bytes_total counter\n"
        "neutrino_port_dropped_bytes_total" + port + " 420\n"
        "# HELP neutrino_uplink_encap_packets_total Packets sent to other hosts on an uplink (tunnel, VLAN or "
        "flat)\n"
        "# TYPE neutrino_uplink_encap_packets_total counter\n"
        "neutrino_uplink_encap_packets_total{uplink=\"vtep0\"} 7\n"
        "neutrino_uplink_encap_packets_total{uplink=\"12\"} 0\n"
        "# HELP neutrino_uplink_encap_bytes_total Bytes sent to other hosts on an uplink (tunnel, VLAN or flat)\n"
        "# TYPE neutrino_uplink_encap_bytes_total counter\n"
        "neutrino_uplink_encap_bytes_total{uplink=\"vtep0\"} 700\n"
        "neutrino_uplink_encap_bytes_total{uplink=\"12\"} 0\n"
        "# HELP neutrino_uplink_decap_packets_total Packets received from other hosts on an uplink for local "
        "ports\n"
        "# TYPE neutrino_uplink_decap_packets_total counter\n"
        "neutrino_uplink_decap_packets_total{uplink=\"vtep0\"} 6\n"
        "neutrino_uplink_decap_packets_total{uplink=\"12\"} 0\n"
        "# HELP neutrino_uplink_decap_bytes_total Bytes received from other hosts on an uplink for local ports\n"
        "# TYPE neutrino_uplink_decap_bytes_total counter\n"
        "neutrino_uplink_decap_bytes_total{uplink=\"vtep0\"} 600\n"
        "neutrino_uplink_decap_bytes_total{uplink=\"12\"} 0\n"
        "# HELP neutrino_uplink_dropped_packets_total Packets of tunnel or provider traffic refused on an "
        "uplink\n"
        "# TYPE neutrino_uplink_dropped_packets_total counter\n"
        "neutrino_uplink_dropped_packets_total{uplink=\"vtep0\"} 0\n"
        "neutrino_uplink_dropped_packets_total{uplink=\"12\"} 1\n"
        "# HELP neutrino_uplink_dropped_bytes_total Bytes of tunnel or provider traffic refused on an uplink\n"
        "# TYPE neutrino_uplink_dropped_bytes_total counter\n"
        "neutrino_uplink_dropped_bytes_total{uplink=\"vtep0\"} 0\n"
        "neutrino_uplink_dropped_bytes_total{uplink=\"12\"} 60\n";
    EXPECT_EQ(prometheus_text(drops(), ports(), uplinks()), expected);
}

TEST(Prometheus, EmptyInstanceStillDeclaresEveryFamily) {
    std::string text = prometheus_text({}, {}, {});
    std::istringstream in(text);
    size_t help = 0, type = 0, samples = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("# HELP ", 0) == 0) ++help;
        else if (line.rfind("# TYPE ", 0) == 0) ++type;
        else ++samples;
    }
    EXPECT_EQ(help, 18u);  // drops, 5 port and 3 uplink counters, each in packets and bytes
    EXPECT_EQ(type, 18u);
    EXPECT_EQ(samples, 0u);
}

// Every sample line follows the exposition grammar, and a family's HELP and
// TYPE come before its samples (what node_exporter's textfile collector checks).
TEST(Prometheus, FollowsTheExpositionGrammar) {
    const std::regex sample(R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? [0-9]+)re");
    const std::regex comment(R"re(# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)re");
    std::string text = prometheus_text(drops(), ports(), uplinks());
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    std::istringstream in(text);
    std::string typed;  // the family of the last TYPE line
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, comment)) {
            if (m[1] == "TYPE") typed = m[2];
            continue;
        }
        ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
        EXPECT_EQ(m[1], typed) << line;
    }
}

// The case table of the per-packet bench: one row per datapath path.
//
// To add a path: add a row with its prepare() (program, frame, ingress
// ifindex, the verdict of one trace run, the TC action every run returns and
// a counter check proving that every run took that path), and drop its
// `pending`. When a repetition would not take the path of the first run (the
// frame is rewritten in place, or the first run creates state), set
// single_runs and, if needed, vary/reset (see env.hpp). Rows whose feature
// does not exist yet keep `pending`: reported as "not implemented yet", never
// timed.
//
// Ports of bench/states/pkt.json: vm1, vm3 (group "tx": egress any), vm2
// (group "rx": egress any, ingress udp 9000 and tcp 5201), vm4 (no port
// security: the plain L2 paths), all on one local network.
#include <tins/dhcp.h>
#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/rawpdu.h>
#include <tins/udp.h>
#include <tins/tcp.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "env.hpp"

namespace nt_bench {

namespace {

using Tins::TCP;

// "" if want == got, else a message naming the counter.
std::string expect_eq(const std::string& what, uint64_t got, uint64_t want) {
    if (got == want) return "";
    std::ostringstream os;
    os << what << " = " << got << ", expected " << want;
    return os.str();
}

std::string first_error(std::initializer_list<std::string> errs) {
    for (const auto& e : errs)
        if (!e.empty()) return e;
    return "";
}

uint64_t from_vm(const Counters& c, const std::string& p) { return c.ports.at(p).from_vm.packets; }
uint64_t to_vm(const Counters& c, const std::string& p) { return c.ports.at(p).to_vm.packets; }

// Pending rows: the issue that brings each feature.
const char* const kIssueRouting = "routing";
const char* const kIssueNat = "SNAT/DNAT and floating IPs";

Case pending(const std::string& name, const std::string& path, const std::string& issue) {
    return Case{name, path, issue, nullptr};
}

void expect_retval(int got, int want, const std::string& step) {
    if (got != want)
        throw std::runtime_error(step + " returned " + std::to_string(got) + ", expected " + std::to_string(want));
}

// The one TCP connection of a port's zone, which must be ESTABLISHED.
std::string expect_established(const Env& e, const std::string& port, uint64_t min_packets) {
    auto flows = e.ct_flows(e.port(port).port_tag);
    if (flows.size() != 1) return port + " has " + std::to_string(flows.size()) + " tracked flows, expected 1";
    const auto& f = flows[0];
    if (f.entry.state != NT_CT_ESTABLISHED)
        return port + "'s flow is in state " + std::to_string(f.entry.state) + ", expected established";
    if (f.entry.packets < min_packets)
        return port + "'s flow counted " + std::to_string(f.entry.packets) + " packets, expected >= " +
               std::to_string(min_packets);
    return "";
}

// Security-group rules that the new flow does not match, shaped like the
// ones the reference gets (bench/lib/neutron_model.py filler_rule): tcp/udp
// to port 10000+r, every fourth from a remote prefix.
nlohmann::json filler_rule(int r) {
    char id[64];
    std::snprintf(id, sizeof id, "d%06x-%04x-4000-8000-%012x", 1, r & 0xffff, r);
    nlohmann::json rule = {{"id", id}, {"direction", "ingress"}, {"ethertype", "IPv4"},
                           {"protocol", r % 2 == 0 ? "tcp" : "udp"}, {"port_range_min", 10000 + r},
                           {"port_range_max", 10000 + r}};
    if (r % 4 == 3) rule["remote_ip_prefix"] = "192.168." + std::to_string(r % 256) + ".0/24";
    return rule;
}

// The bench state as loaded, with n filler rules in group "rx" ahead of its own.
nlohmann::json with_rules(const nlohmann::json& base, int n) {
    nlohmann::json doc = base;
    for (auto& sg : doc["security_groups"]) {
        if (sg["name"] != "rx") continue;
        nlohmann::json rules = nlohmann::json::array();
        for (int r = 0; r < n; r++) rules.push_back(filler_rule(r));
        for (const auto& r : sg["security_group_rules"]) rules.push_back(r);
        sg["security_group_rules"] = rules;
    }
    return doc;
}

Case established_into_vm() {
    return {"sg_established",
            "Established TCP flow into vm2 (tap egress: conntrack hit, TCP state, deliver)", "", [](Env& e) {
                const auto &a = e.port("vm1"), &b = e.port("vm2");
                int in_b = e.datapath().tap_egress_fd(), out_b = e.datapath().tap_ingress_fd();
                e.clear_ct();
                expect_retval(run_once(in_b, tcp_frame(a, b, 40001, 5201, TCP::SYN), b.ifindex), kTcActOk, "SYN");
                expect_retval(run_once(out_b, tcp_frame(b, a, 5201, 40001, TCP::SYN | TCP::ACK), b.ifindex),
                              kTcActRedirect, "SYN-ACK");
                expect_retval(run_once(in_b, tcp_frame(a, b, 40001, 5201, TCP::ACK), b.ifindex), kTcActOk, "ACK");
                if (auto err = expect_established(e, "vm2", 3); !err.empty()) throw std::runtime_error(err);
                Prepared p;
                p.prog_fd = in_b;
                p.ifindex = b.ifindex;
                p.frame = tcp_frame(a, b, 40001, 5201, TCP::ACK | TCP::PSH, 6);
                p.retval = kTcActOk;
                p.verdict = NT_VERDICT_DELIVER;
                p.target = b.ifindex;
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("vm2 to_vm", to_vm(y, "vm2") - to_vm(x, "vm2"), runs),
                                        expect_eq("new flows", y.rule_hits - x.rule_hits, 0),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.after = [&e](uint64_t runs) { return expect_established(e, "vm2", runs); };
                return p;
            }};
}

Case established_out_of_vm() {
    return {"sg_established_out",
            "Established TCP flow out of vm1 (tap ingress: anti-spoofing, conntrack hit, L2 redirect)", "",
            [](Env& e) {
                const auto &a = e.port("vm1"), &b = e.port("vm2");
                int out_a = e.datapath().tap_ingress_fd(), in_a = e.datapath().tap_egress_fd();
                e.clear_ct();
                expect_retval(run_once(out_a, tcp_frame(a, b, 40002, 5201, TCP::SYN), a.ifindex), kTcActRedirect,
                              "SYN");
                expect_retval(run_once(in_a, tcp_frame(b, a, 5201, 40002, TCP::SYN | TCP::ACK), a.ifindex),
                              kTcActOk, "SYN-ACK");
                expect_retval(run_once(out_a, tcp_frame(a, b, 40002, 5201, TCP::ACK), a.ifindex), kTcActRedirect,
                              "ACK");
                if (auto err = expect_established(e, "vm1", 3); !err.empty()) throw std::runtime_error(err);
                Prepared p;
                p.prog_fd = out_a;
                p.ifindex = a.ifindex;
                p.frame = tcp_frame(a, b, 40002, 5201, TCP::ACK | TCP::PSH, 6);
                p.retval = kTcActRedirect;
                p.verdict = NT_VERDICT_REDIRECT;
                p.target = b.ifindex;
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("vm1 from_vm", from_vm(y, "vm1") - from_vm(x, "vm1"), runs),
                                        expect_eq("new flows", y.rule_hits - x.rule_hits, 0),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.after = [&e](uint64_t runs) { return expect_established(e, "vm1", runs); };
                return p;
            }};
}

Case new_flow(int n) {
    return {"sg_new_" + std::to_string(n),
            "New TCP flow (SYN) into vm2, " + std::to_string(n) +
                " non-matching rules on the port ahead of the allowing one (tap egress: classify, track)",
            "", [n](Env& e) {
                const auto &a = e.port("vm1"), &b = e.port("vm2");
                e.apply(with_rules(e.base_doc(), n));
                e.clear_ct();
                Prepared p;
                p.prog_fd = e.datapath().tap_egress_fd();
                p.ifindex = b.ifindex;
                p.frame = tcp_frame(a, b, 1024, 5201, TCP::SYN, 6);
                p.single_runs = true;
                // A new source port per run: every run is the first packet of
                // its flow. (TCP checksums are not checked by the datapath.)
                p.vary = [](Bytes& f, uint64_t i) {
                    uint16_t sport = static_cast<uint16_t>(1024 + i % 60000);
                    f[34] = static_cast<uint8_t>(sport >> 8);
                    f[35] = static_cast<uint8_t>(sport);
                };
                p.reset = [&e]() { e.clear_ct(); };
                p.retval = kTcActOk;
                p.verdict = NT_VERDICT_DELIVER;
                p.target = b.ifindex;
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("new flows", y.rule_hits - x.rule_hits, runs),
                                        expect_eq("vm2 to_vm", to_vm(y, "vm2") - to_vm(x, "vm2"), runs),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.notes = "single runs, a new source port each: a repeated run would be one new flow "
                          "and then hits on it; conntrack emptied between batches, outside the timing";
                return p;
            }};
}

// Diagnostic: the new-flow decision without its bookkeeping. Trace mode
// runs the same parse, conntrack misses and classifier lookups but writes
// nothing (no conntrack entry, no counters), so a repeated run is valid.
Case classify_only(int n) {
    return {"sg_classify_" + std::to_string(n),
            "Diagnostic: the same new flow with " + std::to_string(n) +
                " rules in trace mode (lookups and decision only: no conntrack insert, no counters)",
            "", [n](Env& e) {
                const auto &a = e.port("vm1"), &b = e.port("vm2");
                e.apply(with_rules(e.base_doc(), n));
                e.clear_ct();
                Prepared p;
                p.prog_fd = e.datapath().tap_egress_fd();
                p.ifindex = b.ifindex;
                p.frame = tcp_frame(a, b, 1024, 5201, TCP::SYN, 6);
                p.trace_timing = true;
                p.retval = kTcActOk;
                p.verdict = NT_VERDICT_DELIVER;
                p.target = b.ifindex;
                p.check = [](const Counters& x, const Counters& y, uint64_t) {
                    return first_error({expect_eq("new flows", y.rule_hits - x.rule_hits, 0),
                                        expect_eq("vm2 to_vm", to_vm(y, "vm2") - to_vm(x, "vm2"), 0),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.after = [&e](uint64_t) {
                    auto flows = e.ct_flows(e.port("vm2").port_tag);
                    return flows.empty() ? std::string() : "trace mode left a conntrack entry";
                };
                return p;
            }};
}

// Encapsulation on the sending tap: vm5 (vx) / vm6 (gr), no port security,
// to a port on the other host; out of the tunnel uplink to its VTEP.
Case encap(bool vxlan) {
    std::string kind = vxlan ? "VXLAN" : "GRE";
    return {vxlan ? "vxlan_encap" : "gre_encap",
            kind + " encap: " + (vxlan ? "vm5" : "vm6") +
                " to a port on the other host (tap ingress: L2 to remote, encapsulate, outer FIB, redirect)",
            "", [vxlan](Env& e) {
                const auto& a = e.port(vxlan ? "vm5" : "vm6");
                BenchPort b = e.remote(vxlan ? "rvx" : "rgr");
                const auto& u = e.uplink();
                Prepared p;
                p.prog_fd = e.datapath().tap_ingress_fd();
                p.ifindex = a.ifindex;
                p.frame = udp_frame(a, b);
                p.single_runs = true;  // the frame grows by the tunnel headers in place
                p.retval = kTcActRedirect;
                p.verdict = NT_VERDICT_REDIRECT;
                p.target = u.ifindex;
                size_t inner = p.frame.size();
                p.out_check = [u, vxlan, inner](const Bytes& o) -> std::string {
                    size_t want = inner + 14 + 20 + (vxlan ? 16 : 8);
                    if (o.size() != want)
                        return "encapsulated frame of " + std::to_string(o.size()) + " bytes, expected " +
                               std::to_string(want);
                    if (!std::equal(u.peer_mac.begin(), u.peer_mac.end(), o.begin()))
                        return "outer destination MAC is not the underlay next hop";
                    if (o[23] != (vxlan ? 17 : 47)) return "outer IP protocol " + std::to_string(o[23]);
                    uint32_t seg = vxlan ? (o[46] << 16 | o[47] << 8 | o[48]) : (o[38] << 24 | o[39] << 16 | o[40] << 8 | o[41]);
                    if (seg != (vxlan ? 1001u : 2001u)) return "segmentation id " + std::to_string(seg);
                    return "";
                };
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("uplink encap", y.encap - x.encap, runs),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.notes = "single runs: encapsulation grows the frame in place; from a port without "
                          "port security (compare with the L2 local forward)";
                return p;
            }};
}

// Decapsulation on the tunnel uplink (TC): a packet from the other host to
// vm5 / vm6, delivered to its tap.
Case decap(bool vxlan) {
    std::string kind = vxlan ? "VXLAN" : "GRE";
    return {vxlan ? "vxlan_decap" : "gre_decap",
            kind + " decap: from the other host to " + (vxlan ? "vm5" : "vm6") +
                " (uplink TC ingress: classify, decapsulate, redirect to the tap)",
            "", [vxlan](Env& e) {
                const auto& b = e.port(vxlan ? "vm5" : "vm6");
                BenchPort a = e.remote(vxlan ? "rvx" : "rgr");
                const auto& u = e.uplink();
                Bytes inner = udp_frame(a, b);
                Prepared p;
                p.prog_fd = e.datapath().prog_fd(neutrino::kProgUplinkIngress);
                p.ifindex = u.ifindex;
                p.frame = tunnel_frame(u, vxlan, vxlan ? 1001 : 2001, inner);
                p.single_runs = true;  // the outer headers are removed in place
                p.retval = kTcActRedirect;
                p.verdict = NT_VERDICT_REDIRECT;
                p.target = b.ifindex;
                p.out_check = [inner](const Bytes& o) -> std::string {
                    return o == inner ? "" : "the decapsulated frame is not the inner frame";
                };
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("uplink decap", y.decap - x.decap, runs),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.notes = "single runs: decapsulation shrinks the frame in place";
                return p;
            }};
}

// The DHCP server on the tap: a DISCOVER from vm1 answered with an OFFER,
// written in place (the frame grows to a 548-byte DHCP message).
Case dhcp_reply() {
    return {"dhcp_reply", "DHCP reply: vm1's DISCOVER answered with an OFFER in place, back out of its tap", "",
            [](Env& e) {
                const auto& a = e.port("vm1");
                Tins::DHCP d;
                d.xid(0x3903f326);
                d.chaddr(a.mac);
                d.type(Tins::DHCP::DISCOVER);
                d.end();
                Tins::EthernetII f = Tins::EthernetII(Tins::HWAddress<6>::broadcast, a.mac) /
                                     Tins::IP("255.255.255.255", "0.0.0.0") / Tins::UDP(67, 68) / d;
                Prepared p;
                p.prog_fd = e.datapath().tap_ingress_fd();
                p.ifindex = a.ifindex;
                p.frame = f.serialize();
                p.single_runs = true;  // the request becomes the reply
                p.retval = kTcActRedirect;
                p.verdict = NT_VERDICT_REPLY;
                p.target = a.ifindex;
                p.out_check = [](const Bytes& o) -> std::string {
                    try {
                        Tins::EthernetII eth(o.data(), static_cast<uint32_t>(o.size()));
                        const auto* dhcp = eth.find_pdu<Tins::RawPDU>();
                        if (!dhcp) return "no DHCP payload in the reply";
                        Tins::DHCP r = dhcp->to<Tins::DHCP>();
                        if (r.type() != Tins::DHCP::OFFER) return "reply is not an OFFER";
                        return "";
                    } catch (const std::exception& ex) {
                        return std::string("reply does not parse: ") + ex.what();
                    }
                };
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("DHCP offers", y.dhcp_offers - x.dhcp_offers, runs),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.notes = "single runs: the DISCOVER is rewritten into the OFFER in place";
                return p;
            }};
}

}  // namespace

std::vector<Case> cases() {
    std::vector<Case> t;

    t.push_back({"l2_forward", "L2 local forward: known unicast vm4 -> vm2, redirect to the tap", "",
                 [](Env& e) {
                     const auto &a = e.port("vm4"), &b = e.port("vm2");
                     Prepared p;
                     p.prog_fd = e.datapath().tap_ingress_fd();
                     p.ifindex = a.ifindex;
                     p.frame = udp_frame(a, b);
                     p.retval = kTcActRedirect;
                     p.verdict = NT_VERDICT_REDIRECT;
                     p.target = b.ifindex;
                     p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                         return first_error({expect_eq("vm4 from_vm", from_vm(y, "vm4") - from_vm(x, "vm4"), runs),
                                             expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                     };
                     p.notes = "from a port without port security: switching alone";
                     return p;
                 }});

    t.push_back({"arp_reply", "ARP reply: vm1 asks for vm2's IP, answered in place back out of vm1's tap", "",
                 [](Env& e) {
                     const auto &a = e.port("vm1"), &b = e.port("vm2");
                     Prepared p;
                     p.prog_fd = e.datapath().tap_ingress_fd();
                     p.ifindex = a.ifindex;
                     p.frame = arp_request(a, b.ip);
                     p.single_runs = true;
                     p.retval = kTcActRedirect;
                     p.verdict = NT_VERDICT_REPLY;
                     p.target = a.ifindex;
                     p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                         return first_error(
                             {expect_eq("vm1 arp_reply",
                                        y.ports.at("vm1").arp_reply.packets - x.ports.at("vm1").arp_reply.packets,
                                        runs),
                              expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                     };
                     p.notes = "single runs: the responder rewrites the request into the reply, and a "
                               "repeated test run would feed that reply back in (dropped as spoofed)";
                     return p;
                 }});

    t.push_back({"flood", "L2 flood: broadcast from vm4, one clone to each of the 3 other local taps", "",
                 [](Env& e) {
                     const auto& a = e.port("vm4");
                     Prepared p;
                     p.prog_fd = e.datapath().tap_ingress_fd();
                     p.ifindex = a.ifindex;
                     p.frame = udp_frame(a.mac, Tins::HWAddress<6>::broadcast, a.ip, Tins::IPv4Address::broadcast);
                     p.retval = kTcActShot;  // the clones carry the frame
                     p.verdict = NT_VERDICT_FLOOD;
                     p.target = 3;
                     p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                         return first_error(
                             {expect_eq("vm4 flooded",
                                        y.ports.at("vm4").flooded.packets - x.ports.at("vm4").flooded.packets, runs),
                              expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                     };
                     p.notes = "includes making the 3 clones and handing them to the veths";
                     return p;
                 }});

    t.push_back({"spoof_drop", "Anti-spoofing: vm1 sends with a foreign source MAC, dropped and counted", "",
                 [](Env& e) {
                     const auto &a = e.port("vm1"), &b = e.port("vm2");
                     Prepared p;
                     p.prog_fd = e.datapath().tap_ingress_fd();
                     p.ifindex = a.ifindex;
                     p.frame = udp_frame(Tins::HWAddress<6>("de:ad:be:ef:00:01"), b.mac, a.ip, b.ip);
                     p.retval = kTcActShot;
                     p.verdict = NT_VERDICT_DROP;
                     p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                         return first_error(
                             {expect_eq("spoofed-mac drops",
                                        y.drops[NT_DROP_SPOOFED_MAC] - x.drops[NT_DROP_SPOOFED_MAC], runs),
                              expect_eq("all drops", y.total_drops() - x.total_drops(), runs)});
                     };
                     return p;
                 }});

    t.push_back({"egress_deliver", "Tap egress: a frame handed to vm4 (port lookup, counters, deliver)", "",
                 [](Env& e) {
                     const auto &a = e.port("vm1"), &b = e.port("vm4");
                     Prepared p;
                     p.prog_fd = e.datapath().tap_egress_fd();
                     p.ifindex = b.ifindex;
                     p.frame = udp_frame(a, b);
                     p.retval = kTcActOk;
                     p.verdict = NT_VERDICT_DELIVER;
                     p.target = b.ifindex;
                     p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                         return first_error({expect_eq("vm4 to_vm", to_vm(y, "vm4") - to_vm(x, "vm4"), runs),
                                             expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                     };
                     p.notes = "to a port without port security";
                     return p;
                 }});

    t.push_back(established_into_vm());
    t.push_back(established_out_of_vm());
    for (int n : {0, 100, 1000, 10000}) t.push_back(new_flow(n));
    t.push_back(classify_only(10000));
    t.push_back(encap(true));
    t.push_back(decap(true));
    t.push_back(encap(false));
    t.push_back(decap(false));

    // ---- paths that arrive with later issues -------------------------------
    t.push_back(pending("routed", "Routed between two subnets (MAC rewrite, TTL, LPM)", kIssueRouting));
    t.push_back(pending("snat", "SNAT to the router's gateway IP (north-south out)", kIssueNat));
    t.push_back(pending("dnat", "DNAT of a floating IP (north-south in)", kIssueNat));
    t.push_back(dhcp_reply());
    return t;
}

}  // namespace nt_bench

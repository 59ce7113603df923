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
// security: the plain L2 paths), all on one local network. Routing and NAT:
// router-1 joins ra (10.9.3.0/24: vm7, vm9 with floating IP 172.31.209.110)
// and rb (10.9.4.0/24: vm8), and through its gateway port r1-gw
// (172.31.209.102, SNAT on) the flat external network "public" on the
// physnet uplink bt-ext0; all three VMs without port security (the routing
// and NAT cost alone, as the L2 forward row is switching alone).
#include <arpa/inet.h>
#include <tins/arp.h>
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
#include "maps/bpf_map.hpp"

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

// A row for a path that does not exist yet: the issue that brings it.
[[maybe_unused]] Case pending(const std::string& name, const std::string& path, const std::string& issue) {
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

// ---- routing and NAT --------------------------------------------------------

const char* const kExtIf = "bt-ext0";                          // the physnet uplink of "public"
const Tins::HWAddress<6> kGwMac("02:00:00:00:ee:01");          // the upstream gateway, learned by ARP
const Tins::IPv4Address kGwIp("172.31.209.1");
const Tins::IPv4Address kExtIp("172.31.209.102");              // router-1's SNAT address
const Tins::IPv4Address kFip("172.31.209.110");                // vm9's floating IP
const Tins::IPv4Address kServer("203.0.113.5");                // behind the gateway
constexpr uint16_t kSnatSport = 40123, kServerPort = 53;

// A 60-byte UDP frame with explicit ports.
Bytes udp_ports(const Tins::HWAddress<6>& smac, const Tins::HWAddress<6>& dmac, const Tins::IPv4Address& src,
                const Tins::IPv4Address& dst, uint16_t sport, uint16_t dport) {
    Tins::EthernetII f = Tins::EthernetII(dmac, smac) / Tins::IP(dst, src) / Tins::UDP(dport, sport) /
                         Tins::RawPDU(std::string(60 - 14 - 20 - 8, 'n'));
    return f.serialize();
}

std::string mac_str(const Bytes& b, size_t at) {
    return Tins::HWAddress<6>(b.data() + at).to_string();
}
std::string ip_str(const Bytes& b, size_t at) {
    char s[16];
    std::snprintf(s, sizeof s, "%u.%u.%u.%u", b[at], b[at + 1], b[at + 2], b[at + 3]);
    return s;
}
uint16_t port_at(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

// What the routed/translated frame must look like: MACs, addresses, TTL one
// less than the input's, and optionally the ports (0 = don't check).
std::function<std::string(const Bytes&)> expect_l3(const Bytes& in, Tins::HWAddress<6> smac, Tins::HWAddress<6> dmac,
                                                   Tins::IPv4Address src, Tins::IPv4Address dst, uint16_t sport,
                                                   uint16_t dport) {
    uint8_t ttl = static_cast<uint8_t>(in.at(22) - 1);
    return [=](const Bytes& o) -> std::string {
        if (o.size() < 38) return "frame of " + std::to_string(o.size()) + " bytes";
        if (mac_str(o, 0) != dmac.to_string()) return "destination MAC " + mac_str(o, 0) + ", expected " + dmac.to_string();
        if (mac_str(o, 6) != smac.to_string()) return "source MAC " + mac_str(o, 6) + ", expected " + smac.to_string();
        if (o[22] != ttl) return "TTL " + std::to_string(o[22]) + ", expected " + std::to_string(ttl);
        if (ip_str(o, 26) != src.to_string()) return "source IP " + ip_str(o, 26) + ", expected " + src.to_string();
        if (ip_str(o, 30) != dst.to_string()) return "destination IP " + ip_str(o, 30) + ", expected " + dst.to_string();
        if (sport && port_at(o, 34) != sport) return "source port " + std::to_string(port_at(o, 34));
        if (dport && port_at(o, 36) != dport) return "destination port " + std::to_string(port_at(o, 36));
        return "";
    };
}

Case routed() {
    return {"routed",
            "Routed: vm7 (net ra) -> vm8 (net rb) through router-1 (tap ingress: router MAC, LPM, MAC rewrite, TTL, "
            "redirect to the local tap)",
            "", [](Env& e) {
                const auto &a = e.port("vm7"), &b = e.port("vm8");
                BenchPort ra = e.remote("r1-a"), rb = e.remote("r1-b");
                Prepared p;
                p.prog_fd = e.datapath().tap_ingress_fd();
                p.ifindex = a.ifindex;
                p.frame = udp_frame(a.mac, ra.mac, a.ip, b.ip);
                p.single_runs = true;  // MACs and TTL rewritten in place
                p.retval = kTcActRedirect;
                p.verdict = NT_VERDICT_REDIRECT;
                p.target = b.ifindex;
                p.out_check = expect_l3(p.frame, rb.mac, b.mac, a.ip, b.ip, 40000, 9000);
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("vm7 from_vm", from_vm(y, "vm7") - from_vm(x, "vm7"), runs),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.notes = "single runs: MACs and TTL are rewritten in place; from a port without port security "
                          "(compare with the L2 local forward)";
                return p;
            }};
}

// The upstream gateway's MAC learned the way the datapath learns it: its ARP
// reply to the router's external address, through uplink_ingress.
void learn_gateway(Env& e) {
    BenchPort gw = e.remote("r1-gw");
    Bytes reply = Tins::ARP::make_arp_reply(kExtIp, kGwIp, gw.mac, kGwMac).serialize();
    expect_retval(run_once(e.datapath().prog_fd(neutrino::kProgUplinkIngress), reply, e.physnet_ifindex(kExtIf)),
                  kTcActShot, "the gateway's ARP reply");
}

// vm7's SNAT flow to the server, bound by one real packet: the external port
// of the binding (host order).
uint16_t snat_binding(Env& e) {
    learn_gateway(e);
    const auto& a = e.port("vm7");
    BenchPort ra = e.remote("r1-a");
    expect_retval(run_once(e.datapath().tap_ingress_fd(), udp_ports(a.mac, ra.mac, a.ip, kServer, kSnatSport, kServerPort),
                           a.ifindex),
                  kTcActRedirect, "the packet that binds the SNAT flow");
    neutrino::BpfMap<nt_nat_key, nt_nat_entry> nat(e.datapath().map_fd(neutrino::kMapNat), neutrino::kMapNat);
    int found = 0;
    uint16_t ext_port = 0;
    nat.for_each([&](const nt_nat_key& k, const nt_nat_entry& v) {
        if (k.dir == NT_NAT_OUT && k.proto == 17 && ntohs(k.sport) == kSnatSport) {
            found++;
            ext_port = ntohs(v.port);
        }
    });
    if (found != 1) throw std::runtime_error("SNAT: " + std::to_string(found) + " OUT bindings for vm7's flow");
    if (e.counters().nat_bindings != 2)
        throw std::runtime_error("SNAT: " + std::to_string(e.counters().nat_bindings) + " bindings, expected 2");
    return ext_port;
}

Case snat_out() {
    return {"snat",
            "SNAT, established binding: vm7 -> external server (tap ingress: route to the gateway, NAT lookup, "
            "rewrite to the router's address and port, redirect out of the physnet uplink)",
            "", [](Env& e) {
                const uint16_t ext_port = snat_binding(e);
                const auto& a = e.port("vm7");
                BenchPort ra = e.remote("r1-a"), gw = e.remote("r1-gw");
                Prepared p;
                p.prog_fd = e.datapath().tap_ingress_fd();
                p.ifindex = a.ifindex;
                p.frame = udp_ports(a.mac, ra.mac, a.ip, kServer, kSnatSport, kServerPort);
                p.single_runs = true;  // translated in place
                p.retval = kTcActRedirect;
                p.verdict = NT_VERDICT_REDIRECT;
                p.target = e.physnet_ifindex(kExtIf);
                p.out_check = expect_l3(p.frame, gw.mac, kGwMac, kExtIp, kServer, ext_port, kServerPort);
                p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
                    return first_error({expect_eq("vm7 from_vm", from_vm(y, "vm7") - from_vm(x, "vm7"), runs),
                                        expect_eq("uplink tx", y.ext_tx - x.ext_tx, runs),
                                        expect_eq("NAT bindings", y.nat_bindings, x.nat_bindings),
                                        expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
                };
                p.notes = "single runs: translated in place; the gateway's MAC learned from its ARP reply on the "
                          "uplink and the binding made by one real packet before timing (UDP)";
                return p;
            }};
}

// A packet from the server arriving on the physnet uplink for `vm` (its
// fixed IP reached through `dst`:`dport`): translated back, routed by
// router-1 (from r1-a's MAC) and redirected to the VM's tap, the source
// untouched and the destination port `vm_port`. Makes and removes no binding.
Prepared inbound(Env& e, const std::string& vm, const Tins::IPv4Address& dst, uint16_t dport, uint16_t vm_port) {
    const auto& b = e.port(vm);
    BenchPort ra = e.remote("r1-a"), gw = e.remote("r1-gw");
    Prepared p;
    p.prog_fd = e.datapath().prog_fd(neutrino::kProgUplinkIngress);
    p.ifindex = e.physnet_ifindex(kExtIf);
    p.frame = udp_ports(kGwMac, gw.mac, kServer, dst, kServerPort, dport);
    p.single_runs = true;
    p.retval = kTcActRedirect;
    p.verdict = NT_VERDICT_REDIRECT;
    p.target = b.ifindex;
    p.out_check = expect_l3(p.frame, ra.mac, b.mac, kServer, b.ip, kServerPort, vm_port);
    p.check = [](const Counters& x, const Counters& y, uint64_t runs) {
        return first_error({expect_eq("uplink rx", y.ext_rx - x.ext_rx, runs),
                            expect_eq("NAT bindings", y.nat_bindings, x.nat_bindings),
                            expect_eq("drops", y.total_drops() - x.total_drops(), 0)});
    };
    return p;
}

Case snat_reply() {
    return {"snat_reply",
            "SNAT reply: server -> router's address and port, to vm7 (uplink TC ingress: NAT lookup, reverse "
            "translation, route, redirect to the tap)",
            "", [](Env& e) {
                const uint16_t ext_port = snat_binding(e);
                Prepared p = inbound(e, "vm7", kExtIp, ext_port, kSnatSport);
                p.notes = "single runs: translated in place; against the binding of the SNAT row";
                return p;
            }};
}

Case dnat_in() {
    return {"dnat",
            "DNAT of a floating IP: server -> 172.31.209.110, to vm9 (uplink TC ingress: floating IP, rewrite to "
            "the fixed IP, route, redirect to the tap)",
            "", [](Env& e) {
                learn_gateway(e);
                Prepared p = inbound(e, "vm9", kFip, 9000, 9000);
                p.notes = "single runs: translated in place; a floating IP is stateless (no binding)";
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

    t.push_back(routed());
    t.push_back(snat_out());
    t.push_back(snat_reply());
    t.push_back(dnat_in());
    t.push_back(dhcp_reply());
    return t;
}

}  // namespace nt_bench

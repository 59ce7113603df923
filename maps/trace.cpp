#include "maps/trace.hpp"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "maps/drop_reasons.hpp"

namespace neutrino {

namespace {

void put16(Frame& f, size_t off, uint16_t v) {
    f[off] = static_cast<uint8_t>(v >> 8);
    f[off + 1] = static_cast<uint8_t>(v);
}

void put32(Frame& f, size_t off, uint32_t v) {
    put16(f, off, static_cast<uint16_t>(v >> 16));
    put16(f, off + 2, static_cast<uint16_t>(v));
}

uint16_t get16(const Frame& f, size_t off) { return static_cast<uint16_t>(f[off] << 8 | f[off + 1]); }
uint32_t get32(const Frame& f, size_t off) { return static_cast<uint32_t>(get16(f, off)) << 16 | get16(f, off + 2); }

// The Internet checksum's folded one's-complement sum of f[off, off+len).
uint32_t csum_add(uint32_t sum, const Frame& f, size_t off, size_t len) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += get16(f, off + i);
    if (len & 1) sum += static_cast<uint32_t>(f[off + len - 1]) << 8;
    return sum;
}

uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void put_mac(Frame& f, size_t off, const MacAddr& m) {
    for (size_t i = 0; i < 6; i++) f[off + i] = m.b[i];
}

std::string mac_at(const Frame& f, size_t off) {
    MacAddr m;
    for (size_t i = 0; i < 6; i++) m.b[i] = f[off + i];
    return m.str();
}

std::string ip4_at(const Frame& f, size_t off) { return IpAddr::v4(get32(f, off)).str(); }

std::string hex(uint32_t v, int width) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*x", width, v);
    return buf;
}

// IPv4 header (20 bytes, DF) at off; its checksum filled in.
void put_ipv4(Frame& f, size_t off, uint16_t tot_len, uint16_t id, uint8_t ttl, uint8_t proto, uint32_t src,
              uint32_t dst) {
    f[off] = 0x45;
    put16(f, off + 2, tot_len);
    put16(f, off + 4, id);
    put16(f, off + 6, 0x4000);  // DF
    f[off + 8] = ttl;
    f[off + 9] = proto;
    put32(f, off + 12, src);
    put32(f, off + 16, dst);
    put16(f, off + 10, csum_fold(csum_add(0, f, off, 20)));
}

std::string tcp_flags_text(uint8_t fl) {
    std::string s;
    const char* names = "FSRPAU";
    for (int i = 0; i < 6; i++)
        if (fl & (1 << i)) s += names[i];
    return s.empty() ? "none" : s;
}

void decode_into(const Frame& f, size_t off, std::vector<Layer>& out, int depth);

void decode_l4(const Frame& f, size_t off, size_t end, uint8_t proto, uint32_t pseudo, std::vector<Layer>& out,
               int depth) {
    size_t len = end - off;
    if (proto == 6) {
        if (len < 20) { out.push_back({"truncated", {{"at", "tcp"}}}); return; }
        uint32_t sum = csum_add(pseudo + 6 + static_cast<uint32_t>(len), f, off, len);
        out.push_back({"tcp", {{"sport", std::to_string(get16(f, off))},
                               {"dport", std::to_string(get16(f, off + 2))},
                               {"flags", tcp_flags_text(f[off + 13])},
                               {"seq", std::to_string(get32(f, off + 4))},
                               {"csum", csum_fold(sum) == 0 ? "ok" : "bad"}}});
    } else if (proto == 17) {
        if (len < 8) { out.push_back({"truncated", {{"at", "udp"}}}); return; }
        uint16_t sport = get16(f, off), dport = get16(f, off + 2), c = get16(f, off + 6);
        std::string csum = "none";
        if (c) csum = csum_fold(csum_add(pseudo + 17 + static_cast<uint32_t>(len), f, off, len)) == 0 ? "ok" : "bad";
        out.push_back({"udp", {{"sport", std::to_string(sport)}, {"dport", std::to_string(dport)},
                               {"len", std::to_string(get16(f, off + 4))}, {"csum", csum}}});
        if (dport == NT_VXLAN_PORT && len >= 16 && depth < 2) {
            out.push_back({"vxlan", {{"vni", std::to_string(get32(f, off + 12) >> 8)},
                                     {"flags", hex(f[off + 8], 2)}}});
            decode_into(f, off + 16, out, depth + 1);
        }
    } else if (proto == 1) {
        if (len < 8) { out.push_back({"truncated", {{"at", "icmp"}}}); return; }
        Layer l{"icmp", {{"type", std::to_string(f[off])}, {"code", std::to_string(f[off + 1])}}};
        if (f[off] == 0 || f[off] == 8) {
            l.fields.push_back({"id", std::to_string(get16(f, off + 4))});
            l.fields.push_back({"seq", std::to_string(get16(f, off + 6))});
        } else if (f[off] == 3 && f[off + 1] == 4) {
            l.fields.push_back({"mtu", std::to_string(get16(f, off + 6))});
        }
        l.fields.push_back({"csum", csum_fold(csum_add(0, f, off, len)) == 0 ? "ok" : "bad"});
        out.push_back(std::move(l));
    } else if (proto == 47) {
        if (len < 4) { out.push_back({"truncated", {{"at", "gre"}}}); return; }
        uint16_t flags = get16(f, off), ptype = get16(f, off + 2);
        size_t hlen = 4;
        Layer l{"gre", {{"ethertype", hex(ptype, 4)}}};
        if (flags & 0x8000) hlen += 4;  // checksum
        if (flags & 0x2000) {
            if (len >= hlen + 4) l.fields.push_back({"key", std::to_string(get32(f, off + hlen))});
            hlen += 4;
        }
        if (flags & 0x1000) hlen += 4;  // sequence
        out.push_back(std::move(l));
        if (ptype == NT_GRE_PROTO_TEB && len >= hlen && depth < 2) decode_into(f, off + hlen, out, depth + 1);
    }
}

void decode_into(const Frame& f, size_t off, std::vector<Layer>& out, int depth) {
    if (f.size() < off + 14) {
        out.push_back({"truncated", {{"at", "ethernet"}}});
        return;
    }
    uint16_t type = get16(f, off + 12);
    Layer eth{"eth", {{"src", mac_at(f, off + 6)}, {"dst", mac_at(f, off)}}};
    off += 14;
    if (type == 0x8100 && f.size() >= off + 4) {
        eth.fields.push_back({"vlan", std::to_string(get16(f, off) & 0x0fff)});
        type = get16(f, off + 2);
        off += 4;
    }
    eth.fields.push_back({"type", hex(type, 4)});
    out.push_back(std::move(eth));
    if (type == 0x0806) {
        if (f.size() < off + 28) { out.push_back({"truncated", {{"at", "arp"}}}); return; }
        uint16_t op = get16(f, off + 6);
        out.push_back({"arp", {{"op", op == 1 ? "request" : op == 2 ? "reply" : std::to_string(op)},
                               {"sender_mac", mac_at(f, off + 8)}, {"sender_ip", ip4_at(f, off + 14)},
                               {"target_mac", mac_at(f, off + 18)}, {"target_ip", ip4_at(f, off + 24)}}});
        return;
    }
    if (type == 0x86dd) {
        if (f.size() < off + 40) { out.push_back({"truncated", {{"at", "ipv6"}}}); return; }
        IpAddr s, d;
        for (size_t i = 0; i < 16; i++) {
            s.b[i] = f[off + 8 + i];
            d.b[i] = f[off + 24 + i];
        }
        out.push_back({"ipv6", {{"src", s.str()}, {"dst", d.str()}, {"next", std::to_string(f[off + 6])},
                                {"hlim", std::to_string(f[off + 7])}}});
        return;
    }
    if (type != 0x0800) return;
    if (f.size() < off + 20 || (f[off] >> 4) != 4) { out.push_back({"truncated", {{"at", "ipv4"}}}); return; }
    size_t ihl = (f[off] & 0xf) * 4u;
    uint16_t tot = get16(f, off + 2);
    if (ihl < 20 || f.size() < off + ihl) { out.push_back({"truncated", {{"at", "ipv4"}}}); return; }
    Layer ip{"ipv4", {{"src", ip4_at(f, off + 12)}, {"dst", ip4_at(f, off + 16)},
                      {"protocol", proto_name(f[off + 9])}, {"ttl", std::to_string(f[off + 8])},
                      {"len", std::to_string(tot)},
                      {"csum", csum_fold(csum_add(0, f, off, ihl)) == 0 ? "ok" : "bad"}}};
    if (get16(f, off + 6) & 0x4000) ip.fields.push_back({"df", "1"});
    out.push_back(std::move(ip));
    size_t end = std::min(f.size(), off + tot);
    if (end < off + ihl || (get16(f, off + 6) & 0x1fff)) return;  // later fragment: no L4 header
    uint32_t pseudo = (get32(f, off + 12) >> 16) + (get32(f, off + 12) & 0xffff) + (get32(f, off + 16) >> 16) +
                      (get32(f, off + 16) & 0xffff);
    decode_l4(f, off + ihl, end, f[off + 9], pseudo, out, depth);
}

}  // namespace

uint8_t proto_number(const std::string& name) {
    if (name == "tcp") return 6;
    if (name == "udp") return 17;
    if (name == "icmp") return 1;
    throw std::invalid_argument("protocol '" + name + "': expected tcp, udp or icmp");
}

std::string proto_name(uint8_t p) {
    switch (p) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 47: return "gre";
    case 58: return "icmpv6";
    default: return std::to_string(p);
    }
}

Frame build_frame(const PacketSpec& s) {
    if (!s.src.is_v4() || !s.dst.is_v4())
        throw std::invalid_argument("trace builds IPv4 packets only (" + s.src.str() + " > " + s.dst.str() + ")");
    size_t l4 = s.proto == 6 ? 20 : s.proto == 17 ? 8 : s.proto == 1 ? 8 : 0;
    if (!l4) throw std::invalid_argument("trace builds tcp, udp or icmp packets, not protocol " + proto_name(s.proto));
    const size_t ip_off = 14, l4_off = 34, l4_len = l4 + s.payload;
    Frame f(l4_off + l4_len, 0);
    put_mac(f, 0, s.dst_mac);
    put_mac(f, 6, s.src_mac);
    put16(f, 12, 0x0800);
    put_ipv4(f, ip_off, static_cast<uint16_t>(20 + l4_len), 0x1234, s.ttl, s.proto, s.src.v4_host_order(),
             s.dst.v4_host_order());
    uint32_t pseudo = (s.src.v4_host_order() >> 16) + (s.src.v4_host_order() & 0xffff) +
                      (s.dst.v4_host_order() >> 16) + (s.dst.v4_host_order() & 0xffff) + s.proto +
                      static_cast<uint32_t>(l4_len);
    if (s.proto == 6) {
        put16(f, l4_off, s.sport);
        put16(f, l4_off + 2, s.dport);
        put32(f, l4_off + 4, 1000);                         // seq
        if (s.tcp_flags & 0x10) put32(f, l4_off + 8, 1);    // ack
        f[l4_off + 12] = 5 << 4;
        f[l4_off + 13] = s.tcp_flags;
        put16(f, l4_off + 14, 64240);
        put16(f, l4_off + 16, csum_fold(csum_add(pseudo, f, l4_off, l4_len)));
    } else if (s.proto == 17) {
        put16(f, l4_off, s.sport);
        put16(f, l4_off + 2, s.dport);
        put16(f, l4_off + 4, static_cast<uint16_t>(l4_len));
        uint16_t c = csum_fold(csum_add(pseudo, f, l4_off, l4_len));
        put16(f, l4_off + 6, c ? c : 0xffff);
    } else {
        f[l4_off] = 8;  // echo request
        put16(f, l4_off + 4, s.sport);
        put16(f, l4_off + 6, 1);
        put16(f, l4_off + 2, csum_fold(csum_add(0, f, l4_off, l4_len)));
    }
    return f;
}

Frame encapsulate(const OuterSpec& o, const Frame& inner) {
    if (!o.src.is_v4() || !o.dst.is_v4()) throw std::invalid_argument("tunnel endpoints must be IPv4");
    const bool vxlan = o.type == NT_NET_VXLAN;
    const size_t tun = vxlan ? 16 : 8;  // UDP + VXLAN, or GRE with key
    Frame f(14 + 20 + tun, 0);
    put_mac(f, 0, o.dst_mac);
    put_mac(f, 6, o.src_mac);
    put16(f, 12, 0x0800);
    if (vxlan) {
        put16(f, 34, 49152);  // source port: any; the receiver does not care
        put16(f, 36, NT_VXLAN_PORT);
        put16(f, 38, static_cast<uint16_t>(8 + 8 + inner.size()));
        f[42] = 0x08;  // I flag
        put32(f, 46, o.seg_id << 8);
    } else {
        put16(f, 34, 0x2000);  // key present
        put16(f, 36, NT_GRE_PROTO_TEB);
        put32(f, 38, o.seg_id);
    }
    f.insert(f.end(), inner.begin(), inner.end());
    put_ipv4(f, 14, static_cast<uint16_t>(f.size() - 14), 0x4e54, NT_TUNNEL_TTL, vxlan ? 17 : 47,
             o.src.v4_host_order(), o.dst.v4_host_order());
    return f;
}

std::string Layer::get(const std::string& key) const {
    for (const auto& [k, v] : fields)
        if (k == key) return v;
    return "";
}

std::vector<Layer> decode_frame(const Frame& f) {
    std::vector<Layer> out;
    decode_into(f, 0, out, 0);
    return out;
}

std::string layers_text(const std::vector<Layer>& layers) {
    std::ostringstream os;
    for (size_t i = 0; i < layers.size(); i++) {
        const Layer& l = layers[i];
        if (i && l.proto == "eth") os << "\n";  // an inner frame starts a line of its own
        else if (i) os << " | ";
        if (l.proto == "eth") {
            os << "eth " << l.get("src") << " > " << l.get("dst");
            if (!l.get("vlan").empty()) os << " vlan " << l.get("vlan");
        } else if (l.proto == "ipv4" || l.proto == "ipv6" || l.proto == "arp") {
            os << l.proto;
            if (l.proto == "arp")
                os << " " << l.get("op") << " " << l.get("sender_ip") << " (" << l.get("sender_mac") << ") > "
                   << l.get("target_ip");
            else
                os << " " << l.get("src") << " > " << l.get("dst");
            for (const auto& [k, v] : l.fields)
                if (k == "ttl" || k == "hlim" || (k == "csum" && v != "ok")) os << " " << k << " " << v;
        } else if (l.proto == "tcp" || l.proto == "udp") {
            os << l.proto << " " << l.get("sport") << " > " << l.get("dport");
            if (l.proto == "tcp") os << " [" << l.get("flags") << "]";
            if (l.get("csum") == "bad") os << " csum bad";
        } else {
            os << l.proto;
            for (const auto& [k, v] : l.fields)
                if (k != "csum" || v == "bad") os << " " << k << " " << v;
        }
    }
    return os.str();
}

nlohmann::json layers_json(const std::vector<Layer>& layers) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& l : layers) {
        nlohmann::json o{{"proto", l.proto}};
        for (const auto& [k, v] : l.fields) o[k] = v;
        a.push_back(std::move(o));
    }
    return a;
}

const char* verdict_name(uint32_t v) {
    switch (v) {
    case NT_VERDICT_PASS: return "pass";
    case NT_VERDICT_REDIRECT: return "redirect";
    case NT_VERDICT_FLOOD: return "flood";
    case NT_VERDICT_REPLY: return "reply";
    case NT_VERDICT_DROP: return "drop";
    case NT_VERDICT_DELIVER: return "deliver";
    case NT_VERDICT_REMOTE: return "remote";
    case NT_VERDICT_ROUTE: return "route";
    default: return "none";
    }
}

const char* trace_policy_text(uint32_t p) {
    switch (p) {
    case NT_TRACE_POLICY_OFF: return "port security disabled: no checks";
    case NT_TRACE_POLICY_BUILTIN: return "allowed without a rule (DHCP/ND/MLD)";
    case NT_TRACE_POLICY_NEW: return "new flow, admitted by rule";
    case NT_TRACE_POLICY_ESTABLISHED: return "tracked flow, admitted by rule";
    case NT_TRACE_POLICY_REPLY: return "reply of a tracked flow, admitted by rule";
    case NT_TRACE_POLICY_RELATED: return "ICMP error about a tracked flow";
    case NT_TRACE_POLICY_FRAGMENT: return "later fragment of a datagram admitted by rule";
    default: return "";
    }
}

namespace {

const char* trace_policy_key(uint32_t p) {
    switch (p) {
    case NT_TRACE_POLICY_OFF: return "port-security-off";
    case NT_TRACE_POLICY_BUILTIN: return "builtin";
    case NT_TRACE_POLICY_NEW: return "new";
    case NT_TRACE_POLICY_ESTABLISHED: return "established";
    case NT_TRACE_POLICY_REPLY: return "reply";
    case NT_TRACE_POLICY_RELATED: return "related";
    case NT_TRACE_POLICY_FRAGMENT: return "fragment";
    default: return "none";
    }
}

// "rule rt-ingress (group open: ingress IPv4 tcp 22 from 0.0.0.0/0)"
std::string rule_text(const TraceStage& s) {
    std::string t = (s.rule_id.empty() ? "#" + std::to_string(s.rule_tag) : s.rule_id);
    if (!s.rule_group.empty() || !s.rule_desc.empty()) t += " (group " + s.rule_group + ": " + s.rule_desc + ")";
    return t;
}

std::string indent(const std::string& text, const std::string& pad) {
    std::string out = pad;
    for (char c : text) {
        out += c;
        if (c == '\n') out += pad;
    }
    return out;
}

}  // namespace

std::string trace_text(const TraceResult& r) {
    std::ostringstream os;
    for (size_t i = 0; i < r.stages.size(); i++) {
        const TraceStage& s = r.stages[i];
        os << i + 1 << ". " << s.host << ": " << s.program << " on " << s.interface;
        if (!s.port.empty()) os << " (port " << s.port << ")";
        os << "\n";
        if (i == 0) os << "   in:\n" << indent(layers_text(decode_frame(s.in)), "     ") << "\n";
        if (s.policy != NT_TRACE_POLICY_NONE) {
            os << "   security groups: " << trace_policy_text(s.policy);
            if (s.rule_tag) os << " " << rule_text(s);
            os << "\n";
        }
        os << "   verdict: " << verdict_name(s.verdict);
        if (s.verdict == NT_VERDICT_REDIRECT || s.verdict == NT_VERDICT_REPLY || s.verdict == NT_VERDICT_DELIVER)
            os << " -> " << (s.target_name.empty() ? "ifindex " + std::to_string(s.target) : s.target_name);
        if (s.verdict == NT_VERDICT_FLOOD) os << " (" << s.target << " copies)";
        if (s.reason)
            os << " (" << drop_reason_name(s.reason) << ")";
        os << "\n";
        for (const auto& n : s.notes) os << "   note: " << n << "\n";
        if (s.verdict != NT_VERDICT_DROP && s.out != s.in)
            os << "   out:\n" << indent(layers_text(decode_frame(s.out)), "     ") << "\n";
        else if (s.verdict != NT_VERDICT_DROP)
            os << "   out: unchanged\n";
    }
    os << "result: " << r.outcome << ": " << r.summary << "\n";
    return os.str();
}

nlohmann::json trace_json(const TraceResult& r) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& s : r.stages) {
        nlohmann::json j{{"host", s.host},
                         {"program", s.program},
                         {"interface", s.interface},
                         {"ifindex", s.ifindex},
                         {"port", s.port},
                         {"retval", s.retval},
                         {"verdict", verdict_name(s.verdict)},
                         {"target", s.target},
                         {"target_name", s.target_name},
                         {"reason", s.reason ? drop_reason_name(s.reason) : ""},
                         {"policy", trace_policy_key(s.policy)},
                         {"in", layers_json(decode_frame(s.in))},
                         {"out", layers_json(decode_frame(s.out))},
                         {"notes", s.notes}};
        if (s.rule_tag)
            j["rule"] = {{"tag", s.rule_tag}, {"id", s.rule_id}, {"group", s.rule_group}, {"description", s.rule_desc}};
        else
            j["rule"] = nullptr;
        stages.push_back(std::move(j));
    }
    return {{"stages", stages}, {"outcome", r.outcome}, {"summary", r.summary}};
}

}  // namespace neutrino

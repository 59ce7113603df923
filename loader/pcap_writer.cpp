#include "loader/pcap_writer.hpp"

#include <pcap/pcap.h>

#include "loader/error.hpp"

namespace neutrino {

PcapWriter::PcapWriter(const std::string& path) {
    pcap_ = pcap_open_dead(DLT_EN10MB, 65535);
    if (!pcap_) throw Error("pcap: cannot open a pcap handle");
    dumper_ = pcap_dump_open(pcap_, path.c_str());
    if (!dumper_) {
        std::string msg = pcap_geterr(pcap_);
        pcap_close(pcap_);
        throw Error("pcap: " + msg);
    }
}

PcapWriter::~PcapWriter() {
    if (dumper_) pcap_dump_close(dumper_);
    if (pcap_) pcap_close(pcap_);
}

void PcapWriter::write(const MonitorEvent& e, uint64_t wall_ns) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(wall_ns / 1000000000ull);
    h.ts.tv_usec = static_cast<suseconds_t>(wall_ns % 1000000000ull / 1000);
    h.caplen = static_cast<bpf_u_int32>(e.data.size());
    h.len = e.pkt_len;
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, e.data.data());
}

void PcapWriter::flush() {
    if (pcap_dump_flush(dumper_) != 0) throw Error("pcap: write failed");
}

}  // namespace neutrino

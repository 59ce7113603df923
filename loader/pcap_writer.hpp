// A pcap file of monitor events' captured bytes, for tcpdump and Wireshark.
// Apart from monitor.cpp: libpcap's headers declare a struct bpf_insn of
// their own that collides with <linux/bpf.h>.
#pragma once

#include <cstdint>
#include <string>

#include "maps/monitor_event.hpp"

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;

namespace neutrino {

// A pcap file (Ethernet link type) of the captured bytes, written with libpcap.
class PcapWriter {
public:
    explicit PcapWriter(const std::string& path);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;
    void write(const MonitorEvent& e, uint64_t wall_ns);
    void flush();

private:
    pcap_t* pcap_ = nullptr;
    pcap_dumper_t* dumper_ = nullptr;
};

}  // namespace neutrino

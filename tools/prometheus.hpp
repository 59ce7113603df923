// `neutrino stats --prometheus`: the datapath's counters in the Prometheus
// text exposition format (version 0.0.4), ready for node_exporter's textfile
// collector. Pure: it formats what the library returned, touching nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "loader/instance.hpp"

namespace neutrino::cli {

// Every family has a HELP and a TYPE line, even with no sample; names are
// neutrino_<what>_{packets,bytes}_total, labels `reason` (drops), `port`,
// `name`, `interface`, `network` (ports) and `uplink` (uplinks).
std::string prometheus_text(const std::vector<DropRow>& drops, const std::vector<PortRow>& ports,
                            const std::vector<UplinkRow>& uplinks);

// A label value as it stands between the quotes: \ " and newline escaped.
std::string prometheus_label_value(std::string_view v);

}  // namespace neutrino::cli

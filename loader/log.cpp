#include "loader/log.hpp"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace neutrino {

namespace {

int libbpf_to_spdlog(enum libbpf_print_level level, const char* fmt, va_list args) {
    char buf[4096];
    int n = std::vsnprintf(buf, sizeof buf, fmt, args);
    std::string msg(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    switch (level) {
        case LIBBPF_WARN: spdlog::warn("libbpf: {}", msg); break;
        case LIBBPF_INFO: spdlog::debug("libbpf: {}", msg); break;
        default: spdlog::trace("libbpf: {}", msg); break;
    }
    return n;
}

}  // namespace

void init_logging(int verbosity) {
    static bool done = false;
    if (!done) {
        auto logger = spdlog::stderr_color_mt("neutrino");
        logger->set_pattern("%^%l%$: %v");
        spdlog::set_default_logger(logger);
        libbpf_set_print(libbpf_to_spdlog);
        done = true;
    }
    spdlog::set_level(verbosity >= 3   ? spdlog::level::trace
                      : verbosity == 2 ? spdlog::level::debug
                      : verbosity == 1 ? spdlog::level::info
                                       : spdlog::level::warn);
}

}  // namespace neutrino

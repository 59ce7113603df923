#include "loader/test_run.hpp"

#include <bpf/bpf.h>

#include <cerrno>

#include "loader/error.hpp"

namespace neutrino {

TestRunResult prog_test_run(int prog_fd, const std::vector<uint8_t>& frame, const void* ctx_in,
                            uint32_t ctx_in_size, void* ctx_out, uint32_t ctx_out_size, uint32_t repeat,
                            uint32_t headroom) {
    TestRunResult r;
    r.out.resize(frame.size() + headroom);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = r.out.data();
    opts.data_size_out = static_cast<uint32_t>(r.out.size());
    opts.ctx_in = ctx_in;
    opts.ctx_size_in = ctx_in_size;
    opts.ctx_out = ctx_out;
    opts.ctx_size_out = ctx_out_size;
    opts.repeat = repeat;
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) throw_errno("BPF_PROG_TEST_RUN", errno);
    r.retval = static_cast<int>(opts.retval);
    r.duration_ns = opts.duration;
    r.out.resize(opts.data_size_out);
    return r;
}

}  // namespace neutrino

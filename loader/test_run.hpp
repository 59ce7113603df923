// One BPF_PROG_TEST_RUN: a program run on a frame, with the context the
// caller gives (__sk_buff for TC, xdp_md for XDP) and copied back. For TC,
// ctx ifindex becomes skb->dev, looked up in the calling thread's netns.
// `neutrino trace` runs the live programs with it. Errors are neutrino::Error
// (the packet tests keep their own runner: they match std::system_error codes).
#pragma once

#include <cstdint>
#include <vector>

namespace neutrino {

struct TestRunResult {
    int retval = 0;            // the program's return value (TC action, XDP action)
    uint32_t duration_ns = 0;  // average per repeat, as the kernel measured it
    std::vector<uint8_t> out;  // the frame as the program left it
};

// out has room for `headroom` more bytes than the frame (encapsulation).
TestRunResult prog_test_run(int prog_fd, const std::vector<uint8_t>& frame, const void* ctx_in,
                            uint32_t ctx_in_size, void* ctx_out, uint32_t ctx_out_size, uint32_t repeat = 1,
                            uint32_t headroom = 512);

}  // namespace neutrino

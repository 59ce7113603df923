// Entry point of the packet tests. The whole process moves into a private,
// unnamed network namespace before any test runs: the veths, AF_PACKET
// sockets and program runs the tests make are invisible to the host, and the
// namespace (with everything in it) disappears when the process exits, even
// on a crash, so there is nothing to clean up. ctest runs each test in its own
// process, so each gets a fresh namespace too.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <fstream>

#include "loader/links.hpp"
#include "loader/log.hpp"

namespace {

// New interfaces get no IPv6 (and so send no router solicitations, MLD
// reports or DAD probes): the captures then see only what the datapath sent.
void disable_ipv6() {
    for (const char* path :
         {"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
        std::ofstream f(path);
        if (f) f << "1\n";  // a kernel without IPv6 has nothing to silence
    }
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Listing the tests (ctest's discovery) needs neither root nor a netns.
    if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();

    if (geteuid() != 0) {
        std::fprintf(stderr, "packet tests need root (BPF_PROG_TEST_RUN, netns)\n");
        return 1;
    }
    neutrino::init_logging(0);
    // Still single-threaded here, so the whole process (not just one
    // thread) is in the new namespace for every test.
    if (unshare(CLONE_NEWNET) != 0) {
        std::perror("packet tests: unshare(CLONE_NEWNET)");
        return 1;
    }
    try {
        neutrino::set_link_up("lo");
        disable_ipv6();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "packet tests: setting up the private netns: %s\n", e.what());
        return 1;
    }
    return RUN_ALL_TESTS();
}

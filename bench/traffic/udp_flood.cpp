// nt_udp_flood: a bounded small-packet UDP sender and a counting receiver.
//
//   nt_udp_flood send --dst IP --port P [--src-port SP] [--payload BYTES]
//                     [--seconds S] [--max-packets N] [--batch N]
//   nt_udp_flood recv --port P [--seconds S] [--idle-ms MS]
//
// The sender pushes datagrams of one flow with sendmmsg as fast as it can for
// S seconds or until it has sent N datagrams (0: no count bound), whichever
// comes first; the receiver counts what arrives with recvmmsg and stops at its
// deadline or once the stream has been idle for MS milliseconds. Both print
// one JSON object on stdout (packets, bytes, active seconds, own CPU time).
// 18 payload bytes make a 60-byte Ethernet frame (64 on the wire with FCS).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    std::string mode, dst;
    int port = 9000, src_port = 0, payload = 18, batch = 64, idle_ms = 500;
    double seconds = 5;
    unsigned long long max_packets = 0;  // 0: bounded by time only
};

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "nt_udp_flood: %s%s%s\n", msg.c_str(), errno ? ": " : "", errno ? std::strerror(errno) : "");
    std::exit(1);
}

Args parse(int argc, char** argv) {
    Args a;
    if (argc < 2) die("usage: nt_udp_flood send|recv [options]");
    a.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        std::string k = argv[i];
        if (i + 1 >= argc) die(k + " needs a value");
        std::string v = argv[++i];
        if (k == "--dst") a.dst = v;
        else if (k == "--port") a.port = std::stoi(v);
        else if (k == "--src-port") a.src_port = std::stoi(v);
        else if (k == "--payload") a.payload = std::stoi(v);
        else if (k == "--seconds") a.seconds = std::stod(v);
        else if (k == "--max-packets") a.max_packets = std::stoull(v);
        else if (k == "--batch") a.batch = std::stoi(v);
        else if (k == "--idle-ms") a.idle_ms = std::stoi(v);
        else die("unknown option " + k);
    }
    if (a.mode != "send" && a.mode != "recv") die("mode is send or recv");
    if (a.mode == "send" && a.dst.empty()) die("send needs --dst");
    if (a.seconds <= 0 || a.seconds > 600) die("--seconds must be in (0, 600]");
    if (a.batch < 1 || a.batch > 1024) die("--batch must be in [1, 1024]");
    return a;
}

double tv(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

void print_result(const char* role, unsigned long long packets, unsigned long long bytes, double active,
                  unsigned long long errors) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("{\"role\": \"%s\", \"packets\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"pps\": %.1f, "
                "\"errors\": %llu, \"utime\": %.6f, \"stime\": %.6f}\n",
                role, packets, bytes, active, active > 0 ? packets / active : 0.0, errors, tv(ru.ru_utime),
                tv(ru.ru_stime));
}

int do_send(const Args& a) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    if (a.src_port) {
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_port = htons(static_cast<uint16_t>(a.src_port));
        if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) die("bind source port");
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(a.port));
    if (inet_pton(AF_INET, a.dst.c_str(), &dst.sin_addr) != 1) die("bad --dst " + a.dst);
    if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) die("connect");

    std::vector<char> buf(static_cast<size_t>(a.payload), 'u');
    std::vector<iovec> iov(static_cast<size_t>(a.batch));
    std::vector<mmsghdr> msgs(static_cast<size_t>(a.batch));
    for (int i = 0; i < a.batch; i++) {
        iov[i] = {buf.data(), buf.size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long sent = 0, errors = 0;
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration<double>(a.seconds);
    while (Clock::now() < deadline && (!a.max_packets || sent < a.max_packets)) {
        unsigned want = static_cast<unsigned>(a.batch);
        if (a.max_packets && a.max_packets - sent < want) want = static_cast<unsigned>(a.max_packets - sent);
        int n = sendmmsg(fd, msgs.data(), want, 0);
        if (n < 0) {
            // ENOBUFS under overload, ECONNREFUSED from an ICMP of an earlier
            // datagram: count and keep the stream going.
            errors++;
            continue;
        }
        sent += static_cast<unsigned>(n);
    }
    double active = std::chrono::duration<double>(Clock::now() - start).count();
    print_result("send", sent, sent * static_cast<unsigned long long>(a.payload), active, errors);
    close(fd);
    return 0;
}

int do_recv(const Args& a) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    int rcvbuf = 32 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    timeval to{0, 50 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &to, sizeof to);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_port = htons(static_cast<uint16_t>(a.port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) die("bind");
    std::fprintf(stderr, "ready\n");

    constexpr int kBatch = 256;
    std::vector<std::vector<char>> bufs(kBatch, std::vector<char>(2048));
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    unsigned long long got = 0, bytes = 0;
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration<double>(a.seconds);
    Clock::time_point first{}, last{};
    while (Clock::now() < deadline) {
        for (int i = 0; i < kBatch; i++) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
        auto now = Clock::now();
        if (n > 0) {
            if (!got) first = now;
            last = now;
            got += static_cast<unsigned>(n);
            for (int i = 0; i < n; i++) bytes += msgs[i].msg_len;
        } else if (got && now - last > std::chrono::milliseconds(a.idle_ms)) {
            break;  // the stream is over
        }
    }
    double active = got ? std::chrono::duration<double>(last - first).count() : 0;
    print_result("recv", got, bytes, active, 0);
    close(fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    return a.mode == "send" ? do_send(a) : do_recv(a);
}

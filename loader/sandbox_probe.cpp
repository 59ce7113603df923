#include "loader/sandbox_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loader/error.hpp"
#include "loader/netns.hpp"

namespace neutrino {

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

sockaddr_in sockaddr_of(const IpAddr& ip, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(ip.v4_host_order());
    return sa;
}

bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd p{fd, events, 0};
    return poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & events);
}

}  // namespace

std::optional<SeenPeer> tcp_peer_seen(const std::string& client_ns, const IpAddr& connect_to,
                                      const std::string& server_ns, uint16_t port, std::chrono::milliseconds timeout) {
    if (!connect_to.is_v4()) throw Error("tcp probe: IPv4 only, got " + connect_to.str());
    const sockaddr_in sa = sockaddr_of(connect_to, port);
    const sockaddr_in any = sockaddr_of(IpAddr::v4(INADDR_ANY), port);
    // A socket belongs to the namespace it was created in: make each end in
    // its namespace, then drive both from here, with no thread or process.
    auto open_in = [](const std::string& ns) {
        NetnsGuard in(ns);
        return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    };
    Fd server(open_in(server_ns));
    int one = 1;
    if (server.fd < 0 || setsockopt(server.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(server.fd, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0 || listen(server.fd, 1) != 0)
        throw_errno("tcp probe: listen on port " + std::to_string(port) + " in " + server_ns, errno);
    Fd client(open_in(client_ns));
    if (client.fd < 0) throw_errno("tcp probe: socket in " + client_ns, errno);
    if (connect(client.fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)
        return std::nullopt;  // refused or unreachable at once
    if (!wait_for(server.fd, POLLIN, timeout)) return std::nullopt;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    Fd accepted(accept4(server.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    if (accepted.fd < 0) return std::nullopt;
    return SeenPeer{IpAddr::v4(ntohl(peer.sin_addr.s_addr)), ntohs(peer.sin_port)};
}

}  // namespace neutrino

#!/usr/bin/env python3
"""A long-lived TCP conversation whose death can be timed.
  tcp_echo.py server PORT            echo every line back, forever
  tcp_echo.py client HOST PORT SECS  send a line every 0.1 s for SECS seconds;
                                     print the seconds (since start) at which
                                     each echo arrived, one per line."""
import socket
import sys
import time


def server(port: int) -> None:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        with c:
            try:
                while data := c.recv(4096):
                    c.sendall(data)
            except OSError:
                pass


def client(host: str, port: int, secs: float) -> None:
    start = time.monotonic()
    s = socket.create_connection((host, port), timeout=2)
    s.settimeout(0.05)
    while time.monotonic() - start < secs:
        try:
            s.sendall(b"x\n")
        except OSError:
            break
        try:
            if s.recv(64):
                print(f"{time.monotonic() - start:.2f}", flush=True)
        except socket.timeout:
            pass
        except OSError:
            break
        time.sleep(0.1)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))

#!/usr/bin/env python3
"""Kills a process with SIGKILL as soon as a pinned BPF hash map holds more
than N entries: the moment `neutrino apply` has begun writing it.
  kill_when_writing.py PID PINNED_MAP N TIMEOUT
  kill_when_writing.py count PINNED_MAP       print the map's number of entries
Exits 0 after the kill, 1 if the process ended first or TIMEOUT passed.
Reads the map with the bpf(2) syscall directly (BPF_OBJ_GET,
BPF_MAP_GET_NEXT_KEY), so each look costs microseconds, not a bpftool run."""
import ctypes
import os
import platform
import signal
import struct
import sys
import time

NR_BPF = {"x86_64": 321, "aarch64": 280}[platform.machine()]
BPF_MAP_GET_NEXT_KEY, BPF_OBJ_GET = 4, 7
libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd: int, attr: bytes) -> int:
    buf = ctypes.create_string_buffer(attr, 128)
    return libc.syscall(NR_BPF, cmd, buf, 128)


def entries(fd: int, limit: int, key_size: int = 64) -> int:
    """The number of entries, counting no further than limit."""
    cur, nxt = ctypes.create_string_buffer(key_size), ctypes.create_string_buffer(key_size)
    count = 0
    while count < limit:
        key = ctypes.addressof(cur) if count else 0
        if bpf(BPF_MAP_GET_NEXT_KEY, struct.pack("IIQQ", fd, 0, key, ctypes.addressof(nxt))) != 0:
            break
        ctypes.memmove(cur, nxt, key_size)
        count += 1
    return count


def more_than(fd: int, n: int) -> bool:
    return entries(fd, n + 1) > n


def open_pinned(pin: str) -> int:
    path = ctypes.create_string_buffer(pin.encode())
    fd = bpf(BPF_OBJ_GET, struct.pack("QII", ctypes.addressof(path), 0, 0))
    if fd < 0:
        sys.exit(f"open {pin}: {os.strerror(ctypes.get_errno())}")
    return fd


def main() -> int:
    if sys.argv[1] == "count":
        print(entries(open_pinned(sys.argv[2]), 1 << 30))
        return 0
    pid, pin, n, timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    fd = open_pinned(pin)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if more_than(fd, n):
            os.kill(pid, signal.SIGKILL)
            return 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs a command and kills it with SIGKILL as soon as a pinned BPF hash map
holds more entries than when the command started: the moment `neutrino
apply` has begun writing that map.
  kill_when_writing.py PINNED_MAP TIMEOUT COMMAND...
Exits 0 after the kill, 1 if the command ended first or TIMEOUT passed.
Reads the map with the bpf(2) syscall directly (BPF_OBJ_GET,
BPF_MAP_GET_NEXT_KEY), so each look costs microseconds, not a bpftool run."""
import ctypes
import os
import platform
import struct
import subprocess
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
    pin, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    fd = open_pinned(pin)
    before = entries(fd, 1 << 30)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if more_than(fd, before):
            proc.kill()
            proc.wait()
            return 0
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    print(f"the command ended (status {proc.returncode}) before writing {pin}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

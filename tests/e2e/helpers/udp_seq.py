#!/usr/bin/env python3
"""A bounded stream of numbered UDP datagrams, and a receiver that accounts
for every sequence number.
  udp_seq.py send HOST PORT COUNT RATE      COUNT datagrams at RATE per second
                                            (paced against the clock: a late
                                            sender catches up, never skips)
  udp_seq.py recv PORT COUNT TIMEOUT        receive until all COUNT arrived (then
                                            0.5 s more for duplicates), 2 s after
                                            the last datagram, or TIMEOUT seconds;
                                            print one JSON line: received, missing,
                                            duplicates, reordered, first missing.
The receiver's socket buffer holds the whole stream, so the receiver itself
never loses a datagram; whatever is missing was lost on the way."""
import json
import socket
import struct
import sys
import time


def send(host: str, port: int, count: int, rate: float) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pad = b"\0" * 60
    start = time.monotonic()
    for seq in range(count):
        due = start + seq / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        while True:
            try:
                s.sendto(struct.pack("!I", seq) + pad, (host, port))
                break
            except BlockingIOError:  # local queue full: wait, the datagram is not lost
                time.sleep(0.001)


def recv(port: int, count: int, timeout: float) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind(("0.0.0.0", port))
    seen = bytearray(count)
    received = duplicates = reordered = unique = 0
    highest = -1
    deadline = time.monotonic() + timeout
    last = None
    done_at = None
    while True:
        now = time.monotonic()
        limit = deadline
        if last is not None:
            limit = min(limit, last + 2.0)
        if done_at is not None:
            limit = min(limit, done_at + 0.5)
        if now >= limit:
            break
        s.settimeout(limit - now)
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        last = time.monotonic()
        if len(data) < 4:
            continue
        seq = struct.unpack("!I", data[:4])[0]
        if seq >= count:
            continue
        received += 1
        if seen[seq]:
            duplicates += 1
            continue
        seen[seq] = 1
        unique += 1
        if seq < highest:
            reordered += 1
        highest = max(highest, seq)
        if unique == count and done_at is None:
            done_at = last
    missing = [i for i in range(count) if not seen[i]]
    print(json.dumps({"count": count, "received": received, "missing": len(missing),
                      "duplicates": duplicates, "reordered": reordered, "first_missing": missing[:10]}),
          flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif sys.argv[1] == "recv":
        recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)

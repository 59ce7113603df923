#!/usr/bin/env python3
"""Send one hand-made Ethernet/IPv4/UDP frame (or COUNT copies of it) out of
an interface through an AF_PACKET socket, bypassing the VM's IP stack: a
source address the VM does not own really leaves the VM. SECONDS spreads the
copies evenly over that long (a bounded flood of a known duration).
Usage: raw_send.py IFACE SRC_MAC DST_MAC SRC_IP DST_IP DPORT [COUNT [SECONDS]]"""
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main() -> None:
    iface, smac, dmac, sip, dip, dport = sys.argv[1:7]
    count = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    seconds = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
    payload = b"neutrino-spoof-test"
    udp = struct.pack("!HHHH", 40000, int(dport), 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        start = time.monotonic()
        for i in range(count):
            if seconds:  # frame i leaves no earlier than i/count of the way
                delay = start + seconds * i / count - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            s.send(eth + ip + udp)


if __name__ == "__main__":
    main()

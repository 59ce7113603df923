#!/usr/bin/env python3
"""Send one hand-made Ethernet/IPv4/UDP frame out of an interface through an
AF_PACKET socket, bypassing the VM's IP stack: a source address the VM does
not own really leaves the VM. Usage: raw_send.py IFACE SRC_MAC DST_MAC SRC_IP DST_IP DPORT"""
import socket
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main() -> None:
    iface, smac, dmac, sip, dip, dport = sys.argv[1:7]
    payload = b"neutrino-spoof-test"
    udp = struct.pack("!HHHH", 40000, int(dport), 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        s.send(eth + ip + udp)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Adversarial-load captures for flowsift (classic little-endian µs pcap, Ethernet, valid IPv4/TCP headers).

    /usr/bin/python3 scripts/make-flood.py flood .bench-cache/flood-syn.pcap [N=10000000]
        N TCP SYNs from random sources (random IPv4 address and port) to 10.77.0.10:80, 100,000 packets/s:
        every packet opens a new flow and none ends within the capture (idle timeout 120 s > N / 100,000 s
        for N ≤ 12M), so the flow table fills up to --max-flows and evicts from then on.
    /usr/bin/python3 scripts/make-flood.py long .bench-cache/long-flow.pcap [N=5000000]
        one TCP connection of N packets (SYN, SYN-ACK, then data and ACKs both ways every 100 µs, FIN/ACK at the
        end), each cut to its 54 header bytes with the original length (up to 1514) kept, as a snaplen-54 capture.

Written in chunks with numpy (Debian's python3-numpy; run with /usr/bin/python3), about 10 s per 10M packets.
The captures are large (70 bytes per packet: 700 MB for the default flood): write them under .bench-cache/
(git-ignored), never into the repository.
"""
import sys

import numpy as np

CHUNK = 1_000_000
REC = 16 + 54  # pcap record header + Ethernet/IPv4/TCP headers


def file_header(snaplen):
    h = np.zeros(24, dtype=np.uint8)
    h[0:4] = [0xD4, 0xC3, 0xB2, 0xA1]  # little-endian µs
    h[4:6] = [2, 0]
    h[6:8] = [4, 0]
    h[16:20] = np.frombuffer(np.uint32(snaplen).tobytes(), dtype=np.uint8)
    h[20:24] = [1, 0, 0, 0]  # LINKTYPE_ETHERNET
    return h.tobytes()


def put_be(a, col, width, values):
    """Writes `values` big-endian into columns [col, col + width) of the uint8 matrix `a`."""
    v = values.astype(np.uint64)
    for k in range(width):
        a[:, col + k] = (v >> np.uint64(8 * (width - 1 - k))) & np.uint64(0xFF)


def put_le(a, col, width, values):
    v = values.astype(np.uint64)
    for k in range(width):
        a[:, col + k] = (v >> np.uint64(8 * k)) & np.uint64(0xFF)


def ones_sum(words):
    """One's-complement sum of rows of 16-bit big-endian words (uint64 matrix) → 16-bit checksums."""
    s = words.sum(axis=1)
    while True:
        hi = s >> np.uint64(16)
        if not hi.any():
            break
        s = (s & np.uint64(0xFFFF)) + hi
    return (~s) & np.uint64(0xFFFF)


def records(t_us, src, dst, sport, dport, seq, ack, flags, payload_len):
    """pcap records (16-byte header + 54 bytes) as one uint8 matrix, one row per packet."""
    n = len(t_us)
    a = np.zeros((n, REC), dtype=np.uint8)
    put_le(a, 0, 4, t_us // 1_000_000)
    put_le(a, 4, 4, t_us % 1_000_000)
    put_le(a, 8, 4, np.full(n, 54))
    put_le(a, 12, 4, 54 + payload_len)
    e = 16
    a[:, e:e + 6] = [0x02, 0, 0, 0, 0, 0x0A]
    a[:, e + 6:e + 12] = [0x02, 0, 0, 0, 0, 0x0B]
    a[:, e + 12:e + 14] = [0x08, 0x00]
    ip = e + 14
    a[:, ip] = 0x45
    put_be(a, ip + 2, 2, 40 + payload_len)
    put_be(a, ip + 4, 2, np.arange(n) & 0xFFFF)
    a[:, ip + 6] = 0x40  # DF
    a[:, ip + 8] = 64
    a[:, ip + 9] = 6
    put_be(a, ip + 12, 4, src)
    put_be(a, ip + 16, 4, dst)
    hdr = a[:, ip:ip + 20].astype(np.uint64)
    put_be(a, ip + 10, 2, ones_sum(hdr[:, 0::2] * np.uint64(256) + hdr[:, 1::2]))
    tcp = ip + 20
    put_be(a, tcp, 2, sport)
    put_be(a, tcp + 2, 2, dport)
    put_be(a, tcp + 4, 4, seq)
    put_be(a, tcp + 8, 4, ack)
    a[:, tcp + 12] = 0x50
    a[:, tcp + 13] = flags
    put_be(a, tcp + 14, 2, np.full(n, 64240))
    # The TCP checksum would cover the payload, which is not captured: left 0, as offloaded captures show it.
    return a


def flood(out, n):
    rng = np.random.default_rng(20261122)
    with open(out, 'wb') as f:
        f.write(file_header(262144))
        for lo in range(0, n, CHUNK):
            m = min(CHUNK, n - lo)
            i = np.arange(lo, lo + m, dtype=np.uint64)
            t_us = np.uint64(1_790_000_000_000_000) + i * np.uint64(10)  # 100,000 packets/s
            src = rng.integers(0x01000000, 0xDF000000, m, dtype=np.uint64)  # random unicast sources
            dst = np.full(m, 0x0A4D000A, dtype=np.uint64)  # 10.77.0.10
            sport = rng.integers(1024, 65536, m, dtype=np.uint64)
            seq = rng.integers(0, 2**32, m, dtype=np.uint64)
            recs = records(t_us, src, dst, sport, np.full(m, 80), seq, np.zeros(m, dtype=np.uint64),
                           np.full(m, 0x02), np.zeros(m, dtype=np.uint64))
            f.write(recs.tobytes())
    print(f'{out}: {n:,} SYN packets from random sources, {n:,} flows')


def long_flow(out, n):
    rng = np.random.default_rng(7)
    client, server = 0x0A4D0015, 0x0A4D000A  # 10.77.0.21 → 10.77.0.10
    with open(out, 'wb') as f:
        f.write(file_header(54))
        for lo in range(0, n, CHUNK):
            m = min(CHUNK, n - lo)
            i = np.arange(lo, lo + m, dtype=np.int64)
            t_us = (np.int64(1_790_000_000_000_000) + i * 100).astype(np.uint64)  # one packet every 100 µs
            fwd = (i % 2) == 0
            plen = np.where(fwd, rng.integers(0, 1461, m), 0).astype(np.uint64)
            flags = np.full(m, 0x10, dtype=np.uint64)  # ACK
            flags[fwd & (plen > 0)] = 0x18  # PSH ACK
            if lo == 0:
                flags[0], flags[1] = 0x02, 0x12  # SYN, SYN-ACK
                plen[0] = plen[1] = 0
            if lo + m == n:
                flags[-2], flags[-1] = 0x11, 0x11  # FIN-ACK both ways
            src = np.where(fwd, client, server).astype(np.uint64)
            dst = np.where(fwd, server, client).astype(np.uint64)
            sport = np.where(fwd, 51000, 443).astype(np.uint64)
            dport = np.where(fwd, 443, 51000).astype(np.uint64)
            seq = (i * 731) & 0xFFFFFFFF
            recs = records(t_us, src, dst, sport, dport, seq.astype(np.uint64), seq.astype(np.uint64), flags, plen)
            f.write(recs.tobytes())
    print(f'{out}: one TCP flow of {n:,} packets (54 bytes captured of each)')


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('flood', 'long'):
        sys.exit(__doc__)
    mode, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else (10_000_000 if mode == 'flood' else 5_000_000)
    (flood if mode == 'flood' else long_flow)(out, n)


if __name__ == '__main__':
    main()

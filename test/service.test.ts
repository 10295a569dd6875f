/**
 * Service classification: the payload parsers on hand-built messages (valid, cut at every byte, hostile
 * lengths; every read checked against the captured window), the family on hand-built flows through the
 * meter, and agreement with nfstream and the lab's known services on the shared captures.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../src/decode/types.js';
import { flowFrameBytes, INSPECT_PACKETS, NAME_MAX, ServiceFamily } from '../src/features/families/service.js';
import { FeatureFinalizer } from '../src/features/finalize.js';
import { extractCapture } from '../src/features/extract.js';
import { FlowMeter } from '../src/features/meter.js';
import { createFeatureSet } from '../src/features/registry.js';
import { nameText } from '../src/features/service/bytes.js';
import { NameCache } from '../src/features/service/names-cache.js';
import { classify, NameKind, ServiceProbe } from '../src/features/service/classify.js';
import { dnsMessage, dnsNameText } from '../src/features/service/dns.js';
import { findHost, startLine } from '../src/features/service/http.js';
import { portService, SERVICE_NAMES, Svc } from '../src/features/service/names.js';
import { quicLongHeader } from '../src/features/service/quic.js';
import {
  bittorrent, dhcpMessage, dhcpv6Message, greeting220, GREETING_220, Hint, kerberosMessage, ldapMessage, mailCommand,
  mailGreeting, mysqlGreeting, netbiosDatagram, netbiosSessionRequest, ntpPacket, postgresStartup, rdpUdpSyn, rdpX224,
  redisCommand, smbMessage, snmpMessage, sshBanner, stunMessage, syslogMessage, telnetNegotiation, tftpRequest,
} from '../src/features/service/signatures.js';
import { dtlsHandshake, TlsHello, tlsHello, tlsRecords } from '../src/features/service/tls.js';
import type { FlowTable } from '../src/flow/table.js';
import { captureAgreement, master, nfstreamDir, normalise, TARGET } from '../scripts/service-agreement.js';
import { IpProto, pkt, TcpFlag, tcpConversation, withPayload } from './helpers/packets.js';
import { describeShared, SHARED, sharedPath } from './helpers/shared.js';

const { SYN, ACK, PSH } = TcpFlag;
const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be24 = (v: number): number[] => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const bytes = (...parts: (number[] | string)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? enc(p) : p)));

/**
 * `b` at offset 3 of a larger buffer, the view cut to its first `n` bytes: any read outside [3, 3 + n)
 * throws, so a parser that looks past the captured bytes fails the test.
 */
function guarded(b: Uint8Array, n = b.length): { d: Uint8Array; o: number; n: number } {
  const o = 3;
  const buf = new Uint8Array(o + b.length + 16).fill(0xee);
  buf.set(b, o);
  const d = new Proxy(buf, {
    get(t, k) {
      if (typeof k === 'string' && k !== '' && Number.isInteger(Number(k))) {
        const i = Number(k);
        if (i < o || i >= o + n) throw new RangeError(`read at payload byte ${i - o}, outside the ${n} captured`);
        return t[i];
      }
      const v: unknown = Reflect.get(t, k, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { d, o, n };
}

/** Deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

// ---- message builders ----------------------------------------------------------------------------------

/** A TLS 1.3-style ClientHello record; `pre` extensions come before server_name. */
function clientHello(sni: string | null, pre: number[][] = []): Uint8Array {
  const exts: number[] = pre.flat();
  if (sni !== null) {
    const name = enc(sni);
    const entry = [0, ...be16(name.length), ...name];
    const list = [...be16(entry.length), ...entry];
    exts.push(0, 0, ...be16(list.length), ...list);
  }
  exts.push(0x00, 0x2b, 0, 3, 2, 3, 4); // supported_versions: TLS 1.3
  const body = [3, 3, ...Array(32).fill(7), 32, ...Array(32).fill(9), ...be16(4), 0x13, 0x01, 0x13, 0x02, 1, 0,
    ...be16(exts.length), ...exts];
  const hs = [1, ...be24(body.length), ...body];
  return bytes([0x16, 3, 1, ...be16(hs.length)], hs);
}

function serverHello(): Uint8Array {
  const body = [3, 3, ...Array(32).fill(5), 0, 0x13, 0x01, 0, ...be16(0)];
  const hs = [2, ...be24(body.length), ...body];
  return bytes([0x16, 3, 3, ...be16(hs.length)], hs);
}

/** Encoded DNS name. */
function dnsName(name: string): number[] {
  return name === '' ? [0] : [...name.split('.').flatMap((l) => [l.length, ...enc(l)]), 0];
}

/** A DNS query (RFC 1035 §4.1) with one question. */
function dnsQuery(name: string, type = 1, flags = 0x0100, counts = [1, 0, 0, 0]): Uint8Array {
  return bytes([0x12, 0x34, ...be16(flags), ...counts.flatMap(be16)], dnsName(name), [...be16(type), 0, 1]);
}

/** A QUIC long-header packet: first byte, version, DCID, SCID, padded to `size`. */
function quicPacket(version: number, size = 1200, b0 = 0xc0, dcid = 8, scid = 0): Uint8Array {
  const v = [(version >>> 24) & 0xff, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff];
  const h = [b0, ...v, dcid, ...Array(dcid).fill(0x11), scid, ...Array(scid).fill(0x22)];
  return bytes(h, Array(Math.max(0, size - h.length)).fill(0));
}

// ---- parsers ---------------------------------------------------------------------------------------------

describe('the read guard of these tests', () => {
  it('throws on a read outside the captured window', () => {
    const g = guarded(bytes([1, 2, 3, 4]), 2);
    expect(g.d[g.o + 1]).toBe(2);
    expect(() => g.d[g.o + 2]).toThrow(RangeError);
    expect(() => g.d[g.o - 1]).toThrow(RangeError);
    const ch = clientHello('a.example'), cut = guarded(ch, 40);
    expect(() => tlsHello(cut.d, cut.o, ch.length, new Int32Array(2))).toThrow(RangeError); // a parser told too much
  });
});

describe('TLS (RFC 8446 §4.1.2, RFC 6066 §3)', () => {
  const sni = new Int32Array(2);
  const run = (b: Uint8Array, n = b.length): [number, string] => {
    const g = guarded(b, n);
    const k = tlsHello(g.d, g.o, g.n, sni);
    return [k, sni[0] < 0 ? '' : nameText(g.d, sni[0], sni[1])];
  };

  it('finds the SNI of a ClientHello, after other extensions too', () => {
    expect(run(clientHello('www.example.org'))).toEqual([TlsHello.CLIENT, 'www.example.org']);
    const grease = [0x0a, 0x0a, 0, 0], alpn = [0, 0x10, 0, 5, 0, 3, 2, 0x68, 0x32];
    expect(run(clientHello('a.b', [grease, alpn]))).toEqual([TlsHello.CLIENT, 'a.b']);
    expect(run(clientHello(null))).toEqual([TlsHello.CLIENT, '']);
    expect(run(serverHello())).toEqual([TlsHello.SERVER, '']);
  });

  it('cut at every byte: never reads past the capture; the SNI only when wholly captured', () => {
    const ch = clientHello('host.example.net', [[0, 0x17, 0, 0]]);
    const end = Buffer.from(ch).indexOf('host.example.net') + 'host.example.net'.length;
    expect(end).toBeGreaterThan(100);
    for (let k = 0; k <= ch.length; k++) {
      const [kind, name] = run(ch, k);
      expect(kind, `cut at ${k}`).toBe(k >= 6 ? TlsHello.CLIENT : TlsHello.NONE);
      expect(name, `cut at ${k}`).toBe(k >= end ? 'host.example.net' : '');
    }
  });

  it('hostile lengths: inconsistent or huge fields give no name, never a read outside', () => {
    const ch = clientHello('x.example');
    const at = (i: number, v: number[]): Uint8Array => { const b = ch.slice(); b.set(v, i); return b; };
    const extLenAt = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 4 + 2; // record, handshake, version, random, sid, suites, compression
    expect(run(at(extLenAt, [0xff, 0xff]))[1]).toBe('x.example'); // extensions length beyond the record: clamped
    expect(run(at(extLenAt + 9, [0xff, 0xff]))[1]).toBe(''); // HostName length 65535
    expect(run(at(extLenAt + 9, [0, 0]))[1]).toBe(''); // empty HostName
    expect(run(at(extLenAt + 4, [0, 2]))[1]).toBe(''); // server_name extension shorter than its entry
    expect(run(at(5 + 4 + 2 + 32, [0xff]))).toEqual([TlsHello.CLIENT, '']); // session id length 255
    expect(run(at(5 + 4 + 2 + 32 + 1 + 32, [0, 3]))).toEqual([TlsHello.CLIENT, '']); // odd cipher-suite length
    expect(run(at(3, [0xff, 0xff]))[0]).toBe(TlsHello.NONE); // record length > 2^14 + 2048
    expect(run(at(6, [0, 0, 3]))[0]).toBe(TlsHello.NONE); // handshake too short for a ClientHello
    // 4000 empty extensions before the SNI: a long walk, bounded by the captured bytes
    const many = clientHello('late.example', Array.from({ length: 4000 }, () => [0xfa, 0xfa, 0, 0]));
    expect(run(many)[1]).toBe('late.example');
    expect(run(many, 9000)[1]).toBe('');
  });

  it('SSL 2.0-compatible ClientHello, DTLS handshakes, TLS records seen mid-connection', () => {
    expect(run(bytes([0x80, 0x2e, 0x01, 0x03, 0x01], Array(43).fill(0)))[0]).toBe(TlsHello.CLIENT);
    const dtls = (v: number[], ht: number): Uint8Array => bytes([0x16, ...v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, ht], Array(39).fill(0));
    for (const v of [[0xfe, 0xff], [0xfe, 0xfd], [0x01, 0x00]]) {
      const g = guarded(dtls(v, 1));
      expect(dtlsHandshake(g.d, g.o, g.n)).toBe(true);
    }
    const g = guarded(dtls([0xfe, 0xfe], 1));
    expect(dtlsHandshake(g.d, g.o, g.n)).toBe(false);
    const rec = (t: number, len: number, first = 0x55): number[] => [t, 3, 3, ...be16(len), first, ...Array(len - 1).fill(0x55)];
    const recs = (parts: number[][], wire?: number): boolean => {
      const b = bytes(...parts);
      const gg = guarded(b);
      return tlsRecords(gg.d, gg.o, gg.n, wire ?? b.length);
    };
    expect(recs([rec(23, 40)])).toBe(true);
    expect(recs([rec(20, 1), rec(22, 40), rec(23, 30)])).toBe(true); // CCS + encrypted Finished + data
    expect(recs([rec(23, 40), [0x99, 0, 0, 0, 0]])).toBe(false); // bytes after the record are no record header
    expect(recs([rec(23, 40), [0x17, 3]])).toBe(true); // the next header split over segments
    expect(recs([rec(23, 4000)].map((r) => r.slice(0, 1400)), 1400)).toBe(true); // a record running past the segment
    expect(recs([rec(22, 40, 0x42)])).toBe(false); // clear handshake with an invalid type (obfuscated fake TLS)
    expect(recs([rec(24, 40)])).toBe(false);
  });
});

describe('HTTP-style start lines (RFC 9112 §3–4, RFC 2326, RFC 3261, SSDP)', () => {
  const line = (s: string, udp = false, n?: number): number => {
    const g = guarded(bytes(s), n);
    return startLine(g.d, g.o, g.n, udp);
  };
  const host = (s: string, atLineStart = false, n?: number): string => {
    const g = guarded(bytes(s), n);
    const span = new Int32Array(2);
    return findHost(g.d, g.o, g.n, atLineStart, span) ? nameText(g.d, span[0], span[1]) : '';
  };

  it('requests, responses, RTSP, SIP, SSDP', () => {
    expect(line('GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(Svc.HTTP);
    expect(line('CONNECT example.org:443 HTTP/1.1\r\n')).toBe(Svc.HTTP);
    expect(line('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')).toBe(Svc.HTTP);
    expect(line('GET /\r\n\r\n')).toBe(Svc.HTTP); // HTTP/0.9 simple request
    expect(line('POST /\r\n\r\n')).toBe(Svc.NONE);
    expect(line('GET /\r\n\r\n', true)).toBe(Svc.NONE);
    expect(line('GET /caf\u00e9?q=<script> HTTP/1.1\r\n')).toBe(Svc.HTTP); // raw UTF-8 in the target
    expect(line('POST http://proxy.example/x HTTP/1.1\r\n')).toBe(Svc.HTTP_PROXY);
    expect(line('HTTP/1.1 200 OK\r\n')).toBe(Svc.HTTP);
    expect(line('HTTP/1.1 200 OK\r\n', true)).toBe(Svc.SSDP);
    expect(line('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n', true)).toBe(Svc.SSDP);
    expect(line('NOTIFY * HTTP/1.1\r\n', true)).toBe(Svc.SSDP);
    expect(line('GET / HTTP/1.1\r\n', true)).toBe(Svc.NONE);
    expect(line('OPTIONS rtsp://cam.example/s RTSP/1.0\r\n')).toBe(Svc.RTSP);
    expect(line('RTSP/1.0 200 OK\r\n')).toBe(Svc.RTSP);
    expect(line('INVITE sip:bob@biloxi.example SIP/2.0\r\n', true)).toBe(Svc.SIP);
    expect(line('SIP/2.0 180 Ringing\r\n', true)).toBe(Svc.SIP);
  });

  it('refuses look-alikes', () => {
    for (const s of ['get / HTTP/1.1\r\n', 'GET / FOO/1.1\r\n', 'HTTP/x.1 200 OK', 'HTTP/1.1 2x0 OK', 'GET\x00/ HTTP/1.1',
      'SSH-2.0-OpenSSH_9.6\r\n', 'VERYLONGMETHODNAMEXX / HTTP/1.1\r\n', 'GET  HTTP/1.1\r\n', '220 ready\r\n']) {
      expect(line(s), s).toBe(Svc.NONE);
    }
  });

  it('a request line cut before its version: a registered method and an origin/absolute target decide', () => {
    expect(line('GET /a/very/long/path?q=1')).toBe(Svc.HTTP);
    expect(line('PROPFIND http://x/')).toBe(Svc.HTTP_PROXY); // absolute form, cut
    expect(line('FROB /a/very/long/path')).toBe(Svc.NONE);
    expect(line('GET example.org/')).toBe(Svc.NONE);
    const req = 'GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n';
    const hostEnd = req.indexOf('\r\nAccept') + 1; // the CR ends the Host line
    for (let k = 0; k <= req.length; k++) {
      expect([Svc.NONE, Svc.HTTP], `cut at ${k}`).toContain(line(req, false, k));
      expect(host(req, false, k), `cut at ${k}`).toBe(k >= hostEnd ? 'www.example.com' : '');
    }
    expect(line(req, false, 'GET /ind'.length)).toBe(Svc.HTTP); // 8 bytes: the shortest line looked at
    expect(line(req, false, 'GET /in'.length)).toBe(Svc.NONE);
  });

  it('Host header: case, whitespace, port, IPv6 literal, line starts', () => {
    expect(host('GET / HTTP/1.1\r\nHOST:example.org:8080\r\n')).toBe('example.org');
    expect(host('GET / HTTP/1.1\r\nhost: \t[2001:db8::1]:8443 \r\n')).toBe('[2001:db8::1]');
    expect(host('GET / HTTP/1.1\r\nhost: [2001:db8::1]\r\n')).toBe('[2001:db8::1]');
    expect(host('GET / HTTP/1.1\r\nX-Forwarded-Host: evil\r\nHost: good\r\n')).toBe('good');
    expect(host('Host: first.example\r\n')).toBe(''); // not at a line start unless told
    expect(host('Host: first.example\r\n', true)).toBe('first.example');
    expect(host('GET / HTTP/1.1\r\nHost: \r\n')).toBe('');
  });
});

describe('DNS (RFC 1035 §4.1)', () => {
  const q = new Int32Array(2);
  const run = (b: Uint8Array, strict: boolean, n?: number): [boolean, string] => {
    const g = guarded(b, n);
    const ok = dnsMessage(g.d, g.o, g.n, strict, q);
    return [ok, q[0] < 0 ? '' : dnsNameText(g.d, q[0], q[1])];
  };

  it('queries and responses, strict and port-confirmed', () => {
    expect(run(dnsQuery('www.example.com'), true)).toEqual([true, 'www.example.com']);
    expect(run(dnsQuery('www.example.com'), false)).toEqual([true, 'www.example.com']);
    const resp = bytes([...dnsQuery('a.example', 1, 0x8180, [1, 1, 0, 0])], [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
    expect(run(resp, true)).toEqual([true, 'a.example']);
    // mDNS announcement: a response without a question (RFC 6762 §8.3), port-confirmed only
    const ann = bytes([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0], dnsName('host.local'), [0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 10, 0, 0, 1]);
    expect(run(ann, false)).toEqual([true, '']);
    expect(run(ann, true)[0]).toBe(false);
    // Labels with any bytes are legal (RFC 2181 §11); the text escapes them
    expect(run(dnsQuery('My Printer._ipp._tcp.local'), false)).toEqual([true, 'My Printer._ipp._tcp.local']);
    expect(run(bytes([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x2e, 0, 1, 0x5c, 0], [0, 1, 0, 1]), false))
      .toEqual([true, 'a\\x2e\\x00.\\x5c']); // a dot, a NUL and a backslash inside labels
    expect(run(dnsQuery('My Printer._ipp._tcp.local'), true)[0]).toBe(false);
    expect(run(dnsQuery(''), false)).toEqual([true, '']);
  });

  it('cut at every byte: strict needs the whole question; the name only when complete', () => {
    const m = dnsQuery('mail.example.net', 28);
    for (let k = 0; k <= m.length; k++) {
      expect(run(m, true, k), `strict, cut at ${k}`).toEqual(k === m.length ? [true, 'mail.example.net'] : [false, '']);
      const [ok, name] = run(m, false, k);
      expect(ok, `cut at ${k}`).toBe(k >= 12);
      expect(name, `cut at ${k}`).toBe(k === m.length ? 'mail.example.net' : '');
    }
  });

  it('hostile names and headers', () => {
    const hdr = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    expect(run(bytes(hdr, [0xc0, 0x0c, 0, 1, 0, 1]), false)[0]).toBe(false); // pointer to itself
    expect(run(bytes(hdr, [0xc0, 0x00, 0, 1, 0, 1]), false)[0]).toBe(false);
    expect(run(bytes(hdr, [64], Array(64).fill(0x61), [0, 0, 1, 0, 1]), false)[0]).toBe(false); // label > 63
    const long = Array.from({ length: 5 }, () => [63, ...Array(63).fill(0x61)]).flat();
    expect(run(bytes(hdr, long, [0, 0, 1, 0, 1]), false)[0]).toBe(false); // name > 255 bytes
    expect(run(dnsQuery('a.example', 1, 0x0100, [0, 0, 0, 0]), false)[0]).toBe(false); // query without question
    expect(run(dnsQuery('a.example', 1, 0x1800), false)[0]).toBe(false); // opcode 3
    expect(run(dnsQuery('a.example', 0), false)[0]).toBe(false); // QTYPE 0
    expect(run(dnsQuery('a.example', 1, 0x0100, [1, 0, 0, 0]).map((v, i, a) => (i === a.length - 1 ? 9 : v)), false)[0]).toBe(false); // class 9
    expect(run(dnsQuery('a.example', 1, 0x0100, [0xffff, 0xffff, 0xffff, 0xffff]), false)[0]).toBe(false);
  });
});

describe('QUIC (RFC 9000 §17.2, RFC 8999)', () => {
  const run = (b: Uint8Array, wire = b.length, n?: number): boolean => {
    const g = guarded(b, n);
    return quicLongHeader(g.d, g.o, g.n, wire);
  };

  it('known versions, reserved versions, version negotiation, Google QUIC', () => {
    expect(run(quicPacket(1))).toBe(true);
    expect(run(quicPacket(0x6b3343cf, 1200, 0xd0))).toBe(true); // v2 Initial
    expect(run(quicPacket(0xff00001d))).toBe(true); // draft-29
    expect(run(quicPacket(0xfaceb002))).toBe(true); // mvfst
    expect(run(quicPacket(0x51303436, 1200, 0xc3))).toBe(true); // Q046
    expect(run(quicPacket(0x1a2a3a4a))).toBe(true); // reserved version, Initial-sized
    expect(run(quicPacket(0x1a2a3a4a, 100))).toBe(false);
    expect(run(quicPacket(0x12345678))).toBe(false);
    expect(run(quicPacket(1, 1200, 0xc0, 21))).toBe(false); // DCID longer than 20
    expect(run(quicPacket(1, 1200, 0x40))).toBe(false); // short header
    const vn = bytes([0x80, 0, 0, 0, 0, 8], Array(8).fill(1), [8], Array(8).fill(2), [0x1a, 0x2a, 0x3a, 0x4a, 0, 0, 0, 1]);
    expect(run(vn)).toBe(true);
    const vnUnknown = bytes([0x80, 0, 0, 0, 0, 8], Array(8).fill(1), [8], Array(8).fill(2), [0x1a, 0x2a, 0x3a, 0x4a]);
    expect(run(vnUnknown)).toBe(false);
    const gq = bytes([0x0d], Array(8).fill(0x33), enc('Q043'), Array(1300).fill(0));
    expect(run(gq)).toBe(true);
    expect(run(bytes([0x0d], Array(8).fill(0x33), enc('X043'), Array(100).fill(0)))).toBe(false);
  });

  it('cut at every byte never reads outside the capture', () => {
    for (const b of [quicPacket(1, 60, 0xc0, 20, 20), quicPacket(0, 60), bytes([0x0d], Array(8).fill(0x33), enc('Q043'))]) {
      for (let k = 0; k <= b.length; k++) expect(() => run(b, 1300, k)).not.toThrow();
    }
  });
});

describe('other signatures', () => {
  const g = (s: Uint8Array | string, n?: number): [Uint8Array, number, number] => {
    const r = guarded(typeof s === 'string' ? bytes(s) : s, n);
    return [r.d, r.o, r.n];
  };

  it('SSH identification string (RFC 4253 §4.2)', () => {
    expect(sshBanner(...g('SSH-2.0-OpenSSH_9.6p1 Ubuntu\r\n'))).toBe(true);
    expect(sshBanner(...g('SSH-1.99-Cisco-1.25\r\n'))).toBe(true);
    expect(sshBanner(...g('SSH-2.0-'))).toBe(true);
    expect(sshBanner(...g('SSH-x.0-foo'))).toBe(false);
    expect(sshBanner(...g('SSH-2.0-foo', 7))).toBe(false);
  });

  it('SMTP/FTP/POP3/IMAP greetings and commands', () => {
    expect(greeting220(...g('220 mx.example.org ESMTP Postfix\r\n'))).toBe(Svc.SMTP);
    expect(greeting220(...g('220 (vsFTPd 3.0.3)\r\n'))).toBe(Svc.FTP);
    expect(greeting220(...g('220-FileZilla Server 0.9\r\n'))).toBe(Svc.FTP);
    expect(greeting220(...g('220 ready\r\n'))).toBe(GREETING_220);
    expect(greeting220(...g('221 bye\r\n'))).toBe(0);
    expect(mailCommand(...g('EHLO client.example\r\n'), 0)).toBe(Svc.SMTP);
    expect(mailCommand(...g('USER anonymous\r\n'), Hint.G220)).toBe(Svc.FTP);
    expect(mailCommand(...g('USER bob\r\n'), Hint.POP_OK)).toBe(Svc.POP3);
    expect(mailCommand(...g('USER bob\r\n'), 0)).toBe(Svc.NONE);
    expect(mailCommand(...g('CAPA\r\n'), 0)).toBe(Svc.POP3);
    expect(mailCommand(...g('AUTH TLS\r\n'), 0)).toBe(Svc.FTP);
    expect(mailCommand(...g('a001 LOGIN bob secret\r\n'), 0)).toBe(Svc.IMAP);
    expect(mailCommand(...g('a001 FROB\r\n'), 0)).toBe(Svc.NONE);
    expect(mailGreeting(...g('+OK POP3 ready\r\n'))).toBe(Svc.POP3);
    expect(mailGreeting(...g('* OK [CAPABILITY IMAP4rev1] ready\r\n'))).toBe(Svc.IMAP);
  });

  it('binary headers: SMB, RDP, DHCP, DHCPv6, NTP, STUN, MySQL, PostgreSQL, Redis, BitTorrent, Telnet', () => {
    const smb1 = bytes([0, 0, 0, 0x55, 0xff], 'SMB', Array(0x51).fill(0));
    const smb2 = bytes([0, 0, 0, 0x55, 0xfe], 'SMB', Array(0x51).fill(0));
    expect([smbMessage(...g(smb1)), smbMessage(...g(smb2))]).toEqual([Svc.SMB1, Svc.SMB23]);
    expect(smbMessage(...g(bytes([0, 0, 0, 0x55, 0xfe], 'SMX')))).toBe(Svc.NONE);
    const cr = bytes([3, 0, 0, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0]);
    expect(rdpX224(...g(cr))).toBe(true);
    expect(rdpX224(...g(bytes([3, 0, 0, 0x13, 0x0d, 0xe0], Array(13).fill(0))))).toBe(false); // LI ≠ length − 5
    const rdpUdp = bytes([0xff, 0xff, 0xff, 0xff, 0, 0x40, 0x18, 0x01], Array(1224).fill(0));
    expect(rdpUdpSyn(...g(rdpUdp), 1232)).toBe(true);
    expect(rdpUdpSyn(...g(rdpUdp, 100), 1232)).toBe(true); // cut by the snaplen: the wire length counts
    expect(rdpUdpSyn(...g(rdpUdp), 1000)).toBe(false);
    const dhcp = new Uint8Array(300);
    dhcp.set([1, 1, 6, 0]);
    dhcp.set([99, 130, 83, 99], 236);
    expect(dhcpMessage(...g(dhcp), 300, false)).toBe(true);
    expect(dhcpMessage(...g(dhcp, 214), 300, true)).toBe(true); // cut before the cookie: the DHCP ports decide
    expect(dhcpMessage(...g(dhcp, 214), 300, false)).toBe(false);
    dhcp[239] = 0;
    expect(dhcpMessage(...g(dhcp), 300, true)).toBe(false);
    expect(dhcpv6Message(...g(bytes([1, 0xaa, 0xbb, 0xcc])))).toBe(true);
    expect(ntpPacket(...g(bytes([0x23], Array(47).fill(0))), 48)).toBe(true); // v4 client
    expect(ntpPacket(...g(bytes([0x23], Array(10).fill(0))), 11)).toBe(false);
    expect(ntpPacket(...g(bytes([0x16, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), 12)).toBe(true); // v2 control (mode 6)
    expect(ntpPacket(...g(bytes([0x03], Array(47).fill(0))), 48)).toBe(false); // version 0
    const stun = bytes([0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42], Array(12).fill(7), [0x80, 0x22, 0, 4, 1, 2, 3, 4]);
    expect(stunMessage(...g(stun), 28, true)).toBe(true);
    expect(stunMessage(...g(stun), 40, true)).toBe(false);
    const mysql = bytes([0x4a, 0, 0, 0, 10], '8.0.36\0', Array(0x4a - 8).fill(1));
    expect(mysqlGreeting(...g(mysql), mysql.length)).toBe(true);
    expect(mysqlGreeting(...g(mysql), mysql.length + 1)).toBe(false);
    expect(postgresStartup(...g(bytes([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])), 8)).toBe(true); // SSLRequest
    expect(postgresStartup(...g(bytes([0, 0, 0, 9, 0, 3, 0, 0, 0])), 9)).toBe(true);
    expect(postgresStartup(...g(bytes([0, 0, 0, 8, 0, 3, 0, 0])), 8)).toBe(false);
    expect(redisCommand(...g('*1\r\n$4\r\nPING\r\n'))).toBe(true);
    expect(redisCommand(...g('*x\r\n$4\r\nPING\r\n'))).toBe(false);
    expect(bittorrent(...g(bytes([19], 'BitTorrent protocol', Array(48).fill(0))), false)).toBe(true);
    expect(bittorrent(...g('d1:ad2:id20:abcdefghij0123456789e1:q4:pinge'), true)).toBe(true);
    expect(bittorrent(...g(bytes([0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 1, 2, 3, 4])), true)).toBe(true);
    expect(telnetNegotiation(...g(bytes([0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20])))).toBe(true);
    expect(telnetNegotiation(...g(bytes([0xff, 0xf0, 0x18])))).toBe(false);
  });

  it('BER and port-confirmed formats: SNMP, LDAP, Kerberos, NetBIOS, Syslog, TFTP', () => {
    const snmp = bytes([0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06], 'public', [0xa0, 0x19]);
    expect(snmpMessage(...g(snmp))).toBe(true);
    expect(snmpMessage(...g(bytes([0x30, 0x26, 0x02, 0x01, 0x02, 0x04])))).toBe(false);
    const ldapBind = bytes([0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]);
    expect(ldapMessage(...g(ldapBind))).toBe(true);
    expect(ldapMessage(...g(snmp))).toBe(false); // SNMP's community is not an APPLICATION tag
    expect(ldapMessage(...g(bytes([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02])))).toBe(false); // 4-byte BER length
    expect(kerberosMessage(...g(bytes([0x6a, 0x81, 0xf0, 0x30])), false)).toBe(true); // AS-REQ
    expect(kerberosMessage(...g(bytes([0, 0, 0, 0xf3, 0x6c, 0x81, 0xf0])), true)).toBe(true); // TGS-REQ over TCP
    expect(kerberosMessage(...g(bytes([0x30, 0x81])), false)).toBe(false);
    expect(netbiosSessionRequest(...g(bytes([0x81, 0, 0, 0x44, 0x20], Array(67).fill(0x41))))).toBe(true);
    expect(netbiosDatagram(...g(bytes([0x11, 0x02], Array(20).fill(0))))).toBe(true);
    expect(syslogMessage(...g('<34>Oct 11 22:14:15 host su: failed'))).toBe(true);
    expect(syslogMessage(...g('<999>x'))).toBe(false);
    expect(tftpRequest(...g(bytes([0, 1], 'boot.img\0octet\0')))).toBe(true);
    expect(tftpRequest(...g(bytes([0, 9], 'boot.img\0')))).toBe(false);
  });
});

describe('NameCache', () => {
  it('returns what nameText / dnsNameText return, for repeated, colliding, escaped and over-long names', () => {
    const cache = new NameCache();
    // DNS-encoded names (labels) and plain names, from a small pool so that most lookups repeat an earlier name,
    // with non-printable bytes, dots inside labels, and spans longer than the cached 64 bytes.
    const dnsName = (labels: string[]): Uint8Array => {
      const out: number[] = [];
      for (const l of labels) { out.push(l.length); for (const ch of l) out.push(ch.charCodeAt(0)); }
      out.push(0);
      return Uint8Array.from(out);
    };
    const pool: { bytes: Uint8Array; dns: boolean }[] = [];
    for (let i = 0; i < 300; i++) {
      pool.push({ bytes: dnsName([`host${i}`, 'example', 'com']), dns: true });
      pool.push({ bytes: Uint8Array.from(`svc${i}.example`, (c) => c.charCodeAt(0)), dns: false });
    }
    pool.push({ bytes: Uint8Array.from([0x61, 0x00, 0x5c, 0xff, 0x7f]), dns: false });
    pool.push({ bytes: dnsName(['a.b', 'c\\d', 'x'.repeat(63)]), dns: true });
    pool.push({ bytes: Uint8Array.from('y'.repeat(200), (c) => c.charCodeAt(0)), dns: false });
    // The same bytes as a plain name and as a DNS name must not share an entry.
    pool.push({ bytes: pool[0].bytes, dns: false });
    let seed = 7;
    for (let n = 0; n < 20000; n++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const { bytes, dns } = pool[seed % pool.length];
      // Place the name at an offset inside a larger buffer, as in a packet.
      const d = new Uint8Array(bytes.length + 16);
      const at = 1 + (seed % 13);
      d.set(bytes, at);
      const want = dns ? dnsNameText(d, at, bytes.length) : nameText(d, at, bytes.length);
      expect(cache.text(d, at, bytes.length, dns)).toBe(want);
    }
  });
});

describe('classify', () => {
  const probe = new ServiceProbe();
  const run = (b: Uint8Array, proto: number, sport: number, dport: number, n = b.length, first = true, hints = 0): [string, string] => {
    const g = guarded(b, n);
    Object.assign(probe, { d: g.d, o: g.o, n: g.n, wire: b.length, protocol: proto, srcPort: sport, dstPort: dport, firstPayload: first, hints });
    classify(probe);
    let name = '';
    if (probe.nameKind === NameKind.TEXT) name = nameText(g.d, probe.nameStart, probe.nameLen);
    if (probe.nameKind === NameKind.DNS) name = dnsNameText(g.d, probe.nameStart, probe.nameLen);
    return [SERVICE_NAMES[probe.svc], name];
  };

  it('names by payload and port where nDPI does', () => {
    expect(run(clientHello('imap.example'), 6, 50000, 993)).toEqual(['IMAPS', 'imap.example']);
    expect(run(clientHello('x.example'), 6, 50000, 8443)).toEqual(['TLS', 'x.example']);
    expect(run(dnsQuery('printer.local'), 17, 5353, 5353)).toEqual(['MDNS', 'printer.local']);
    expect(run(dnsQuery('wpad'), 17, 50000, 5355)).toEqual(['LLMNR', 'wpad']);
    expect(run(dnsQuery('example.org'), 17, 50000, 53)).toEqual(['DNS', 'example.org']);
    expect(run(dnsQuery('example.org'), 17, 50000, 5300)).toEqual(['DNS', 'example.org']); // strict parse, any port
    expect(run(dnsQuery('2.dnscrypt-cert.example.org', 16), 17, 50000, 443)).toEqual(['DNScrypt', '2.dnscrypt-cert.example.org']);
    expect(run(dnsQuery('EJFDEBFEEBFACACACACACACACACACAAA'), 17, 137, 137)).toEqual(['NetBIOS', '']);
    const tcpDns = dnsQuery('tcp.example');
    expect(run(bytes(be16(tcpDns.length), [...tcpDns]), 6, 50000, 53)).toEqual(['DNS', 'tcp.example']);
    expect(run(bytes('GET / HTTP/1.1\r\nHost: h.example\r\n\r\n'), 6, 50000, 8080)).toEqual(['HTTP', 'h.example']);
    expect(run(bytes([3, 0, 0, 0x13, 0x0e, 0xe0], Array(13).fill(0)), 6, 50000, 102)).toEqual(['', '']); // ISO-TSAP, not RDP
    expect(run(bytes('+OK ready\r\n'), 6, 110, 50000)).toEqual(['POP3', '']);
    expect(run(bytes('+OK\r\n'), 6, 6379, 50000, undefined, false)).toEqual(['', '']); // not the first payload
    expect(run(bytes('220 ready\r\n'), 6, 25, 50000)).toEqual(['', '']);
    expect(probe.hints).toBe(Hint.G220);
  });

  it('never throws or reads outside the capture, on random and signature-prefixed payloads cut at every byte', () => {
    const r = rng(12345);
    const prefixes = [[0x16, 3, 1, 2, 0, 1, 0, 1, 0xfc, 3, 3], [0x17, 3, 3, 0, 0x20], [0x16, 0xfe, 0xfd], enc('GET /'),
      enc('HTTP/1.1 '), enc('SSH-2.0-'), [0, 0, 0, 0x50, 0xfe, 0x53, 0x4d, 0x42], [3, 0, 0, 0x13, 0x0e, 0xe0],
      [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3], [0xc0, 0, 0, 0, 1, 8], [0x80, 0, 0, 0, 0, 4], [0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 0x51],
      [1, 1, 6, 0], [0x30, 0x82, 0x01, 0x00, 0x02, 0x01], [0x6a, 0x81], [0x4a, 0, 0, 0, 10, 0x35], enc('*3\r\n$3'),
      enc('220 '), enc('+OK'), enc('* OK'), enc('a1 LOGIN'), enc('<13>'), [0, 1, 0x41], [0x23], [0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42],
      [19, ...enc('BitTorrent protocol')], [0xff, 0xfb, 1], [0x81, 0, 0, 0x44, 0x20], [0xff, 0xff, 0xff, 0xff, 0, 0x40, 0x18, 1]];
    const ports = [[50000, 443], [50000, 80], [53, 50000], [5353, 5353], [50000, 5355], [137, 137], [138, 138], [50000, 123],
      [68, 67], [546, 547], [50000, 161], [50000, 88], [50000, 389], [50000, 514], [50000, 69], [50000, 139], [50000, 3389],
      [50000, 9999]];
    let runs = 0;
    for (let i = 0; i < 600; i++) {
      const pre = prefixes[i % prefixes.length];
      const len = pre.length + Math.floor(r() * 80);
      const b = new Uint8Array(len);
      b.set(pre);
      for (let j = pre.length; j < len; j++) b[j] = Math.floor(r() * 256);
      const [sp, dp] = ports[i % ports.length];
      for (const proto of [IpProto.TCP, IpProto.UDP]) {
        for (let k = 0; k <= len; k++) {
          run(b, proto, sp, dp, k, (i & 1) === 0, i & 3);
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThan(50000);
  });

  it('port fallback table', () => {
    expect(SERVICE_NAMES[portService(6, 50000, 22)]).toBe('SSH');
    expect(SERVICE_NAMES[portService(6, 22, 50000)]).toBe('SSH');
    expect(SERVICE_NAMES[portService(17, 50000, 443)]).toBe('QUIC');
    expect(SERVICE_NAMES[portService(6, 50000, 445)]).toBe('SMBv23');
    expect(SERVICE_NAMES[portService(6, 50000, 21)]).toBe('FTP_CONTROL');
    expect(SERVICE_NAMES[portService(1, 0, 0)]).toBe('');
    expect(SERVICE_NAMES[portService(6, 50000, 5201)]).toBe('');
  });
});

// ---- the family on flows ----------------------------------------------------------------------------------

interface TextFlow { service: string; service_source: string; server_name: string; dport: number; bytes: number }

/** Runs packets through a meter; returns each flow's text columns by name, its responder port and frame bytes. */
function textFlows(packets: DecodedPacket[]): TextFlow[] {
  const out: TextFlow[] = [];
  const meter = new FlowMeter((f) => {
    const names = meter.featureSet.textColumns.map((c) => c.name);
    const row = Object.fromEntries(names.map((n, i) => [n, f.text[i]])) as Record<string, string>;
    out.push({ service: row.service, service_source: row.service_source, server_name: row.server_name, dport: f.dstPort, bytes: flowFrameBytes(f) });
  });
  for (const p of packets) meter.pushDecoded(p);
  meter.finish();
  return out;
}

const handshake = (k: ReturnType<typeof tcpConversation>, t = 0): DecodedPacket[] => [k.c(t, SYN), k.s(t + 1, SYN | ACK), k.c(t + 2, ACK)];
const P = (p: DecodedPacket, payload: Uint8Array | string, captured?: number): DecodedPacket => withPayload(p, payload, captured);

describe('service family on flows', () => {
  it('has the three columns, documented', () => {
    const cols = createFeatureSet().textColumns;
    const names = cols.map((c) => c.name);
    const i = names.indexOf('service');
    expect(names.slice(i, i + 3)).toEqual(['service', 'service_source', 'server_name']);
    for (const c of cols.slice(i, i + 3)) expect(c.description.length).toBeGreaterThan(40);
  });

  it('TLS on a non-standard port with SNI; frame bytes summed', () => {
    const k = tcpConversation('10.0.0.1', 40000, '10.0.0.2', 8443);
    const pk = [...handshake(k), P(k.c(10, PSH | ACK), clientHello('api.example.org')), P(k.s(11, PSH | ACK), serverHello())];
    const [f] = textFlows(pk);
    expect(f).toMatchObject({ service: 'TLS', service_source: 'payload', server_name: 'api.example.org' });
    expect(f.bytes).toBe(pk.reduce((s, p) => s + p.frameLen, 0));
  });

  it('a snaplen-cut ClientHello: TLS, and the SNI only if captured', () => {
    const ch = clientHello('cut.example.org', [[0, 0x17, 0, 0]]);
    const k = tcpConversation('10.0.0.1', 40001, '10.0.0.2', 443);
    expect(textFlows([...handshake(k), P(k.c(10, PSH | ACK), ch, 60)])[0]).toMatchObject({ service: 'TLS', service_source: 'payload', server_name: '' });
    expect(textFlows([...handshake(k), P(k.c(10, PSH | ACK), ch, ch.length - 7)])[0]).toMatchObject({ server_name: 'cut.example.org' });
  });

  it('HTTP whose Host header comes in the next segment', () => {
    const k = tcpConversation('10.0.0.1', 40002, '10.0.0.2', 8080);
    const [f] = textFlows([...handshake(k), P(k.c(10, PSH | ACK), 'GET /x HTTP/1.1\r\nUser-Agent: t\r\n'),
      P(k.s(11, PSH | ACK), 'HTTP/1.1 100 Continue\r\n\r\n'), P(k.c(12, PSH | ACK), 'Host: split.example\r\nAccept: */*\r\n\r\n')]);
    expect(f).toMatchObject({ service: 'HTTP', service_source: 'payload', server_name: 'split.example' });
  });

  it('DNS over UDP, with the query name', () => {
    const q = pkt({ t: 0, src: '10.0.0.1', dst: '10.0.0.53', sport: 33333, dport: 53, proto: IpProto.UDP });
    const r = pkt({ t: 5, src: '10.0.0.53', dst: '10.0.0.1', sport: 53, dport: 33333, proto: IpProto.UDP });
    const [f] = textFlows([P(q, dnsQuery('Intranet.Lab')), P(r, dnsQuery('Intranet.Lab', 1, 0x8180))]);
    expect(f).toMatchObject({ service: 'DNS', service_source: 'payload', server_name: 'Intranet.Lab' });
  });

  it(`server names up to ${NAME_MAX} bytes kept as bytes, longer ones as strings: the same text from deferred records`, () => {
    // DNS names (labels: the encoded form is 2 bytes longer than the text) and HTTP Host names (text) on both sides of
    // the length the record holds.
    const label = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const names: string[] = [];
    const packets: DecodedPacket[] = [];
    [10, 58, 59, 60, 61, 150].forEach((n, i) => {
      // Labels of at most 63 bytes (RFC 1035 §2.3.4); encoded, the name is n + 6 bytes (150: 3 labels, 160 bytes).
      const name = n > 63 ? `${label(63)}.${label(63)}.${label(n - 126)}.lab` : `${label(n)}.lab`;
      names.push(name);
      packets.push(P(pkt({ t: i * 10, src: '10.0.0.1', dst: '10.0.0.53', sport: 30000 + i, dport: 53, proto: IpProto.UDP }), dnsQuery(name)));
    });
    [NAME_MAX - 1, NAME_MAX, NAME_MAX + 1, 200].forEach((n, i) => {
      const host = label(n);
      names.push(host);
      const k = tcpConversation('10.0.0.1', 41000 + i, '10.0.0.2', 80);
      packets.push(...handshake(k, 100 + i * 10), P(k.c(105 + i * 10, PSH | ACK), `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
    });
    const direct = textFlows(packets).map((f) => f.server_name);
    expect(direct).toEqual(names);
    // Deferred: the meter sends the text it keeps (long names) and a copy of each flow's record; a finalizer on the
    // copies writes the rest, as extract's formatting thread does.
    const fin = new FeatureFinalizer({});
    const copies = fin.textRecordWords.map((w) => new Uint32Array(w));
    fin.useTextRecords(copies.map((a) => a.buffer));
    const deferred: string[] = [];
    const meter = new FlowMeter((f) => {
      const t = [...f.text];
      for (const p of fin.deferredTextPositions) t[p] = 'stale';
      copies.forEach((a, k) => { a.fill(0xdeadbeef); f.writeTextRecord(k, a, 0); });
      fin.finalizeText(0, t);
      deferred.push(t[meter.featureSet.textColumns.findIndex((c) => c.name === 'server_name')]);
    }, { deferText: true });
    for (const p of packets) meter.pushDecoded(p);
    meter.finish();
    expect(deferred).toEqual(names);
  });

  it('a bare 220 greeting waits for the client: EHLO → SMTP, USER → FTP_CONTROL', () => {
    const smtp = tcpConversation('10.0.0.1', 40003, '10.0.0.2', 2525);
    const ftp = tcpConversation('10.0.0.1', 40004, '10.0.0.2', 2121);
    const fl = textFlows([...handshake(smtp), P(smtp.s(10, PSH | ACK), '220 hello\r\n'), P(smtp.c(11, PSH | ACK), 'EHLO me\r\n'),
      ...handshake(ftp, 20), P(ftp.s(30, PSH | ACK), '220 hello\r\n'), P(ftp.c(31, PSH | ACK), 'USER anonymous\r\n')]);
    expect(fl.map((f) => [f.dport, f.service, f.service_source])).toEqual([[2525, 'SMTP', 'payload'], [2121, 'FTP_CONTROL', 'payload']]);
  });

  it('port fallback when no payload decided; empty when nothing did', () => {
    const ssh = tcpConversation('10.0.0.1', 40005, '10.0.0.2', 22);
    const iperf = tcpConversation('10.0.0.1', 40006, '10.0.0.2', 5201);
    const quic = pkt({ t: 50, src: '10.0.0.1', dst: '10.0.0.2', sport: 40007, dport: 443, proto: IpProto.UDP });
    const icmp = pkt({ t: 60, src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.ICMP });
    const fl = textFlows([ssh.c(0, SYN), ...handshake(iperf, 10), P(iperf.c(20, PSH | ACK), bytes(Array(37).fill(0x61))),
      P(quic, bytes([0x40], Array(50).fill(0x99))), P(icmp, bytes(Array(56).fill(0)))]);
    expect(fl.map((f) => [f.service, f.service_source, f.server_name])).toEqual([
      ['SSH', 'port', ''], ['', '', ''], ['QUIC', 'port', ''], ['', '', ''],
    ]);
  });

  it(`inspects only the first ${INSPECT_PACKETS} payload packets of each direction`, () => {
    const run = (junk: number): TextFlow => {
      const k = tcpConversation('10.0.0.1', 40008, '10.0.0.2', 2222);
      const pk = [...handshake(k)];
      for (let i = 0; i < junk; i++) pk.push(P(k.c(10 + 2 * i, PSH | ACK), bytes([0x99, i])), P(k.s(11 + 2 * i, PSH | ACK), bytes([0x98, i])));
      pk.push(P(k.s(100, PSH | ACK), 'SSH-2.0-OpenSSH_9.6\r\n'));
      return textFlows(pk)[0];
    };
    expect(run(INSPECT_PACKETS - 1).service).toBe('SSH');
    expect(run(INSPECT_PACKETS).service).toBe('');
  });

  it('reads no payload once the flow is decided', () => {
    const fam = new ServiceFamily();
    fam.resize(4);
    const table = { protocol: Uint8Array.of(6), srcPort: Uint16Array.of(40009), dstPort: Uint16Array.of(2222) } as unknown as FlowTable;
    const k = tcpConversation('10.0.0.1', 40009, '10.0.0.2', 2222);
    const first = P(k.s(1, PSH | ACK), 'SSH-2.0-x\r\n');
    fam.onInit(0, first);
    fam.onUpdate(0, first, 1);
    let reads = 0;
    for (let i = 0; i < 20; i++) {
      const p = P(k.c(10 + i, PSH | ACK), 'GET / HTTP/1.1\r\n');
      const data = p.data;
      Object.defineProperty(p, 'data', { get: () => { reads++; return data; } });
      fam.onUpdate(0, p, 0);
    }
    expect(reads).toBe(0);
    const out = ['', '', ''];
    fam.onExpire(0, table, out, Int32Array.of(0, 1, 2));
    expect(out).toEqual(['SSH', 'payload', '']);
  });
});

// ---- shared captures ---------------------------------------------------------------------------------------

describeShared('service agreement with nfstream (peers/nfstream)', () => {
  const dir = nfstreamDir(SHARED);

  it('agrees with nfstream\'s master protocol on every compared flow of a handful of captures', async () => {
    const names = ['443-curl.pcap', 'one_flow.pcap', 'google_ssl.pcap', 'http_auth.pcap', 'ssh.pcap', 'quic.pcap',
      'dhcp.pcap', 'NTPv4.pcap', 'mdns.pcap', 'android.pcap', 'rdp.pcap', 'ftp.pcap', 'kerberos.pcap', 'dns_fragmented.pcap',
      'synscan.pcap', '1kxun.pcap'];
    const seen = new Set<string>();
    // synscan: SYN probes to well-known ports (nfstream guesses by port too); 1kxun: DHCP, MDNS, NTP, SSDP, LLMNR
    for (const n of names) {
      const a = await captureAgreement(n, dir);
      expect(a.paired, n).toBe(a.peerFlows);
      for (const p of a.pairs) {
        expect(normalise(p.ours.service), `${n} #${p.peer.id} ${p.peer.application} ${p.ours.tuple}`).toBe(normalise(master(p.peer.application)));
        seen.add(normalise(p.ours.service));
      }
    }
    expect([...seen].sort()).toEqual([...TARGET].sort());
  }, 60_000);

  it('server names: TLS SNI, HTTP Host, DNS question; SMB over NetBIOS', async () => {
    const by = async (n: string) => (await captureAgreement(n, dir)).pairs.map((p) => p.ours);
    expect((await by('443-curl.pcap'))[0]).toMatchObject({ service: 'TLS', source: 'payload', serverName: 'www.ntop.org' });
    expect((await by('one_flow.pcap'))[0]).toMatchObject({ service: 'TLS', serverName: 'facebook.com' });
    expect((await by('http_auth.pcap'))[0]).toMatchObject({ service: 'HTTP', source: 'payload', serverName: 'browserspy.dk' });
    expect((await by('android.pcap')).filter((f) => f.service === 'DNS').map((f) => f.serverName)).toContain('captive.apple.com');
    expect((await by('ssh.pcap')).map((f) => [f.service, f.source]).sort()).toEqual([['SSH', 'payload'], ['SSH', 'port']]);
    const smb = (await captureAgreement('smbv1.pcap', dir));
    expect(smb.extra.map((p) => p.ours.service)).toEqual(['SMBv1']); // nfstream: NetBIOS.SMBv1
  }, 60_000);

  it('agrees on ≥ 95 % of the whole corpus\'s compared flows', async () => {
    let agree = 0, total = 0;
    for (const n of readdirSync(join(dir, 'pcaps'))) {
      if (!existsSync(join(dir, 'results', n))) continue;
      for (const p of (await captureAgreement(n, dir)).pairs) { total++; if (p.agree) agree++; }
    }
    expect(total).toBeGreaterThan(1500);
    expect(agree / total).toBeGreaterThanOrEqual(0.95);
  }, 120_000);
});

describeShared('service on the lab capture (lab/train: server 10.77.0.10)', () => {
  it('HTTP 80, TLS 443, SSH 22, DNS 53 by payload; iperf3 5201 unknown', async () => {
    const byPort = new Map<number, Map<string, number>>();
    let dnsNamed = 0;
    const col = createFeatureSet().textColumns.findIndex((c) => c.name === 'service');
    await extractCapture(sharedPath('lab', 'train', 'capture.pcap'), (f) => {
      if (f.dstIp !== '10.77.0.10') return;
      const cols = f.text.slice(col, col + 3);
      const key = `${cols[0]}/${cols[1]}`;
      const m = byPort.get(f.dstPort) ?? new Map<string, number>();
      m.set(key, (m.get(key) ?? 0) + 1);
      byPort.set(f.dstPort, m);
      if (f.dstPort === 53 && cols[2] !== '') dnsNamed++;
    });
    const keys = (port: number): string[] => [...(byPort.get(port) ?? new Map()).keys()].sort();
    // Flows with payload are decided by it; SYN-only flows (the SYN flood, nmap) fall back to the port.
    expect(keys(80)).toEqual(['HTTP/payload', 'HTTP/port']);
    expect(byPort.get(80)!.get('HTTP/payload')).toBeGreaterThan(1000);
    expect(keys(443)).toEqual(['TLS/payload', 'TLS/port']);
    expect(byPort.get(443)!.get('TLS/payload')).toBeGreaterThan(400);
    expect(keys(22)).toEqual(['SSH/payload', 'SSH/port']);
    expect(byPort.get(22)!.get('SSH/payload')).toBeGreaterThan(500);
    expect(keys(53).filter((k) => k.startsWith('DNS/payload'))).toEqual(['DNS/payload']);
    expect(dnsNamed).toBe(byPort.get(53)!.get('DNS/payload'));
    expect(keys(5201)).toEqual(['/']);
  }, 60_000);
});

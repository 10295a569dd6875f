/**
 * Fuzz harness for hostile captures: `npm run fuzz -- --count N --seed S`.
 *
 * Takes small real captures (pcap and pcapng from ../shared/datasets/peers/nfstream/pcaps, windows of
 * datasets/lab-excerpt/capture.pcap, plus a few synthetic captures with IPv6 extension-header chains,
 * overlapping IPv4 fragments and nested tunnels), mutates them with structure-aware mutators (bit flips, byte
 * runs, truncation at and inside records, length fields set to 0 / huge / negative-as-unsigned, pcapng block
 * lengths that disagree, swapped magic, snaplen smaller than the headers, IPv4 header/total length and fragment
 * fields, IPv6 next-header loops, timestamps, interface options, records duplicated, dropped, swapped) and runs
 * every input through the in-process pipeline:
 *
 * - `extractCapture` with every profile option (flowsift, nfstream, nfstream with statistics and IP accounting,
 *   no TCP termination and no tunnels, tiny timeouts and `maxFlows` 2, strict), each flow written as CSV,
 *   labelled by the example's rules and scored by the shipped model (`models/lab-tree`, through
 *   `ModelPipeline.bind`);
 * - the push parser fed in random chunk sizes, which must give the same packets and the same error as one read.
 *
 * Properties: no uncaught exception; every thrown error is a flowsift input error (CaptureError, DatasetError,
 * ModelError, OutputError, TableError), a CaptureError names the file and, for corrupt/truncated/unsupported
 * input, a byte offset inside the input; no input takes longer than `--time-limit` ms (default 2000; inputs run
 * in worker threads, a worker that does not answer in time is terminated and the input reported as a hang);
 * feature values are finite; memory stays bounded (peak RSS reported; workers have a heap limit).
 *
 * Prints inputs tried, crashes, hangs, errors by kind, the slowest input and the peak RSS; exits 1 on any crash,
 * hang or divergence. Failing inputs are saved under `.fuzz-crashes/` (git-ignored) with a `.txt` describing the
 * failure and the mutations; `npm run fuzz -- --replay FILE` runs one saved input in-process and prints the stack.
 *
 * Options: `--count N` (1000), `--seed S` (1), `--workers N` (CPU count), `--time-limit MS` (2000),
 * `--json` (print the summary as one JSON line at the end), `--replay FILE`, `--quiet`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.FLOWSIFT_SHARED ?? resolve(REPO, '..', 'shared');
const CRASH_DIR = join(REPO, '.fuzz-crashes');
const LABELS = join(REPO, 'datasets', 'lab-excerpt', 'labels.csv');
const MODEL = join(REPO, 'models', 'lab-tree');

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------------------------

/** A small seeded PRNG (mulberry32) with helpers. */
export class Rng {
  private s: number;
  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 2^32). */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  /** A random element. */
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

/** Seed of input `i` of a run with seed `seed` (so any input can be regenerated alone). */
function inputSeed(seed: number, i: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Capture structure (an independent, lenient walker: the harness must not trust the parser under test)
// ---------------------------------------------------------------------------------------------------------------

/** A capture split into its units: the pcap file header and records, or the pcapng blocks. */
interface Capture {
  format: 'pcap' | 'pcapng';
  /** Byte order of the file (of the first section for pcapng). */
  le: boolean;
  /** pcap: the 24-byte file header; pcapng: null (the SHB is the first block). */
  head: Uint8Array | null;
  /** pcap: records (16-byte header + data); pcapng: blocks, SHB and IDBs included. */
  units: Uint8Array[];
}

function rd32(b: Uint8Array, o: number, le: boolean): number {
  return le ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function wr32(b: Uint8Array, o: number, v: number, le: boolean): void {
  if (o < 0 || o + 4 > b.length) return;
  v >>>= 0;
  if (le) { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; b[o + 2] = (v >>> 16) & 0xff; b[o + 3] = v >>> 24; }
  else { b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff; }
}
function rd16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}
function wr16(b: Uint8Array, o: number, v: number, le: boolean): void {
  if (o < 0 || o + 2 > b.length) return;
  if (le) { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; } else { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; }
}
function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Splits a capture into units; null when the bytes are no capture this walker understands. */
function splitCapture(buf: Uint8Array): Capture | null {
  if (buf.length < 24) return null;
  const m = rd32(buf, 0, true);
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    const units: Uint8Array[] = [];
    let o = 24;
    while (o + 16 <= buf.length) {
      const cap = rd32(buf, o + 8, le);
      if (cap > 262144 || o + 16 + cap > buf.length) break;
      units.push(buf.slice(o, o + 16 + cap));
      o += 16 + cap;
    }
    return { format: 'pcap', le, head: buf.slice(0, 24), units };
  }
  if (m === 0x0a0d0d0a) {
    const le = rd32(buf, 8, true) === 0x1a2b3c4d;
    const units: Uint8Array[] = [];
    let o = 0;
    while (o + 12 <= buf.length) {
      const total = rd32(buf, o + 4, le);
      if (total < 12 || total % 4 !== 0 || o + total > buf.length) break;
      units.push(buf.slice(o, o + total));
      o += total;
    }
    return { format: 'pcapng', le, head: null, units };
  }
  return null;
}

function joinCapture(c: Capture): Uint8Array {
  return concat(c.head ? [c.head, ...c.units] : c.units);
}

const EPB = 6, SPB = 3, PB = 2, IDB = 1, SHB = 0x0a0d0d0a;

function blockType(c: Capture, u: Uint8Array): number {
  return rd32(u, 0, c.le);
}

/** Link type of each interface (pcapng) or of the file (pcap). */
function linkTypes(c: Capture): number[] {
  if (c.format === 'pcap') return [rd32(c.head!, 20, c.le) & 0xffff];
  const out: number[] = [];
  for (const u of c.units) if (blockType(c, u) === IDB && u.length >= 20) out.push(rd16(u, 8, c.le));
  return out;
}

/** Where the packet bytes of unit `u` are: [dataOffset, capLen, linkType], or null for a non-packet unit. */
function packetOf(c: Capture, u: Uint8Array, lts: number[]): [number, number, number] | null {
  if (c.format === 'pcap') return [16, u.length - 16, lts[0]!];
  const t = blockType(c, u);
  if ((t === EPB || t === PB) && u.length >= 32) {
    const cap = Math.min(rd32(u, 20, c.le), u.length - 32);
    const ifId = t === PB ? rd16(u, 8, c.le) : rd32(u, 8, c.le);
    return [28, cap, lts[ifId] ?? lts[0] ?? 1];
  }
  if (t === SPB && u.length >= 16) return [12, Math.min(rd32(u, 8, c.le), u.length - 16), lts[0] ?? 1];
  return null;
}

/** A packet unit rebuilt with new packet bytes `data` (captured length = data.length), original length `orig`. */
function rebuildPacket(c: Capture, u: Uint8Array, data: Uint8Array, orig: number): Uint8Array {
  if (c.format === 'pcap') {
    const out = new Uint8Array(16 + data.length);
    out.set(u.subarray(0, 16));
    out.set(data, 16);
    wr32(out, 8, data.length, c.le);
    wr32(out, 12, orig, c.le);
    return out;
  }
  const t = blockType(c, u);
  const pad = (data.length + 3) & ~3;
  if (t === SPB) {
    const total = 16 + pad;
    const out = new Uint8Array(total);
    wr32(out, 0, SPB, c.le);
    wr32(out, 4, total, c.le);
    wr32(out, 8, orig, c.le);
    out.set(data, 12);
    wr32(out, total - 4, total, c.le);
    return out;
  }
  const total = 32 + pad; // options dropped
  const out = new Uint8Array(total);
  out.set(u.subarray(0, 20));
  wr32(out, 4, total, c.le);
  wr32(out, 20, data.length, c.le);
  wr32(out, 24, orig, c.le);
  out.set(data, 28);
  wr32(out, total - 4, total, c.le);
  return out;
}

/** Offset of the network header inside packet bytes for a link type, with its EtherType-like kind (4, 6) or null. */
function netHeader(data: Uint8Array, lt: number): [number, 4 | 6] | null {
  let o: number;
  let et = -1;
  switch (lt) {
    case 1: {
      o = 12;
      if (data.length < 14) return null;
      et = (data[o]! << 8) | data[o + 1]!;
      o = 14;
      while ((et === 0x8100 || et === 0x88a8) && o + 4 <= data.length) {
        et = (data[o + 2]! << 8) | data[o + 3]!;
        o += 4;
      }
      break;
    }
    case 113:
      if (data.length < 16) return null;
      et = (data[14]! << 8) | data[15]!;
      o = 16;
      break;
    case 276:
      if (data.length < 20) return null;
      et = (data[0]! << 8) | data[1]!;
      o = 20;
      break;
    case 0:
    case 108:
      o = 4;
      break;
    case 101:
    case 228:
    case 229:
    case 12:
    case 14:
      o = 0;
      break;
    default:
      return null;
  }
  if (o >= data.length) return null;
  if (et === 0x0800 || (et === -1 && data[o]! >> 4 === 4)) return [o, 4];
  if (et === 0x86dd || (et === -1 && data[o]! >> 4 === 6)) return [o, 6];
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------------------------------

/** Small real captures of the shared corpus used as seeds (several link types, tunnels, pcapng of both orders). */
const SHARED_SEEDS = [
  '4in4tunnel.pcap', '4in6tunnel.pcap', '6in4tunnel.pcap', '6in6tunnel.pcap', 'teredo.pcap', 'gtp-u.pcap',
  'ipv6_in_gtp.pcap', 'capwap.pcap', 'dlt_ppp.pcap', 'BGP_Cisco_hdlc_slarp.pcap', 'raw.pcap', 'malformed_icmp.pcap',
  'ip_fragmented_garbage.pcap', 'fuzz-2021-06-07-c6c72a0a56.pcap', 'http-lines-split.pcap', '443-chrome.pcap',
  'dns_fragmented.pcap', 'badpackets.pcap', 'http_ipv6.pcap', 'tftp.pcap',
  'dhcp_big_endian.pcapng', 'dhcp_little_endian.pcapng', 'os_detected.pcapng', 'rtsp_setup_http.pcapng',
  'dnscrypt_skype_false_positive.pcapng', 'quic_frags_ch_in_multiple_packets.pcapng', 'z3950.pcapng',
];

/** Largest seed, bytes: big captures are cut into windows of about this size. */
const SEED_BYTES = 4096;

/** Windows of ≤ SEED_BYTES of a capture: the header (and every IDB) plus consecutive packet units. */
function windows(buf: Uint8Array, count: number): Uint8Array[] {
  const c = splitCapture(buf);
  if (!c) return [];
  const keep = (u: Uint8Array): boolean => c.format === 'pcapng' && (blockType(c, u) === SHB || blockType(c, u) === IDB);
  const fixed = c.units.filter(keep);
  const pkts = c.units.filter((u) => !keep(u));
  const base = fixed.reduce((n, u) => n + u.length, c.head?.length ?? 0);
  const out: Uint8Array[] = [];
  for (let w = 0; w < count; w++) {
    let start = Math.floor((w * pkts.length) / Math.max(1, count));
    const picked: Uint8Array[] = [];
    let size = base;
    while (start < pkts.length && (picked.length === 0 || size + pkts[start]!.length <= SEED_BYTES) && picked.length < 64) {
      picked.push(pkts[start]!);
      size += pkts[start]!.length;
      start++;
    }
    out.push(joinCapture({ ...c, units: [...fixed, ...picked] }));
    if (pkts.length === 0) break;
  }
  return out;
}

/** Builds a little-endian µs pcap of Ethernet frames (ts 1.0 s apart from 1700000000). */
function pcapOf(frames: Uint8Array[], linkType = 1): Uint8Array {
  const head = new Uint8Array(24);
  wr32(head, 0, 0xa1b2c3d4, true);
  wr16(head, 4, 2, true);
  wr16(head, 6, 4, true);
  wr32(head, 16, 65535, true);
  wr32(head, 20, linkType, true);
  const recs = frames.map((f, i) => {
    const r = new Uint8Array(16 + f.length);
    wr32(r, 0, 1700000000 + (i >> 2), true);
    wr32(r, 4, (i & 3) * 250000, true);
    wr32(r, 8, f.length, true);
    wr32(r, 12, f.length, true);
    r.set(f, 16);
    return r;
  });
  return concat([head, ...recs]);
}

function ether(type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

function ipv4(proto: number, payload: Uint8Array, o: { id?: number; frag?: number; mf?: boolean; src?: number; dst?: number } = {}): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  wr16(p, 2, p.length, false);
  wr16(p, 4, o.id ?? 1, false);
  wr16(p, 6, ((o.frag ?? 0) >> 3) | (o.mf ? 0x2000 : 0), false);
  p[8] = 64;
  p[9] = proto;
  wr32(p, 12, o.src ?? 0x0a000001, false);
  wr32(p, 16, o.dst ?? 0x0a000002, false);
  p.set(payload, 20);
  return p;
}

function ipv6(nh: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  p[0] = 0x60;
  wr16(p, 4, payload.length, false);
  p[6] = nh;
  p[7] = 64;
  p[23] = 1;
  p[39] = 2;
  p.set(payload, 40);
  return p;
}

function tcp(sport: number, dport: number, flags: number, payload = 0): Uint8Array {
  const t = new Uint8Array(20 + payload);
  wr16(t, 0, sport, false);
  wr16(t, 2, dport, false);
  t[12] = 0x50;
  t[13] = flags;
  wr16(t, 14, 1024, false);
  return t;
}

function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  wr16(u, 0, sport, false);
  wr16(u, 2, dport, false);
  wr16(u, 4, u.length, false);
  u.set(payload, 8);
  return u;
}

/** Synthetic seeds: IPv6 extension-header chains and loops, overlapping IPv4 fragments, nested tunnels. */
function syntheticSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  // IPv6: a chain of 30 extension headers (hop-by-hop → routing → dest opts … cycling), then TCP.
  const chain = (n: number, types: number[], last: number): Uint8Array => {
    const b = new Uint8Array(n * 8 + 20);
    for (let i = 0; i < n; i++) {
      b[i * 8] = i + 1 < n ? types[(i + 1) % types.length]! : last;
      b[i * 8 + 1] = 0;
    }
    b.set(tcp(1234, 80, 0x02), n * 8);
    return b;
  };
  seeds.push(pcapOf([
    ether(0x86dd, ipv6(0, chain(30, [0, 43, 60, 135], 6))),
    ether(0x86dd, ipv6(60, chain(16, [60], 6))),
    ether(0x86dd, ipv6(44, chain(40, [44], 6))), // fragment headers pointing at fragment headers
    ether(0x86dd, ipv6(51, chain(8, [51, 0], 17))),
    ether(0x86dd, ipv6(6, tcp(80, 1234, 0x12))),
  ]));
  // IPv4: overlapping fragments of one datagram (same id), a tiny first fragment, the last offset possible.
  const data = new Uint8Array(64).fill(0x41);
  seeds.push(pcapOf([
    ether(0x0800, ipv4(6, tcp(1000, 80, 0x02, 24), { id: 7, mf: true })),
    ether(0x0800, ipv4(6, data.subarray(0, 32), { id: 7, frag: 8, mf: true })),
    ether(0x0800, ipv4(6, data.subarray(0, 48), { id: 7, frag: 0, mf: true })),
    ether(0x0800, ipv4(6, data.subarray(0, 16), { id: 7, frag: 16, mf: false })),
    ether(0x0800, ipv4(17, data.subarray(0, 8), { id: 9, frag: 0xfff8, mf: true })),
    ether(0x0800, ipv4(17, udp(53, 53, data.subarray(0, 4)), { id: 9, frag: 0, mf: true })),
  ]));
  // Nested tunnels: IPv4-in-IPv4 ten deep, GRE in GRE, VXLAN carrying Ethernet carrying IPv6, GTP-U.
  let inner = ipv4(6, tcp(2000, 443, 0x18, 8));
  for (let i = 0; i < 10; i++) inner = ipv4(4, inner, { src: 0x0a000100 + i, dst: 0x0a000200 + i });
  const gre = (p: Uint8Array): Uint8Array => concat([new Uint8Array([0, 0, 0x08, 0x00]), p]);
  const vx = udp(5555, 4789, concat([new Uint8Array([8, 0, 0, 0, 0, 0, 1, 0]), ether(0x86dd, ipv6(17, udp(1, 2, data.subarray(0, 8))))]));
  const gtp = udp(2152, 2152, concat([new Uint8Array([0x30, 0xff, 0, 28, 0, 0, 0, 1]), ipv4(17, udp(3, 4, data.subarray(0, 8)))]));
  seeds.push(pcapOf([
    ether(0x0800, inner),
    ether(0x0800, ipv4(47, gre(ipv4(47, gre(ipv4(47, gre(ipv4(1, new Uint8Array([8, 0, 0, 0, 0, 1, 0, 1]))))))))),
    ether(0x0800, ipv4(17, vx)),
    ether(0x0800, ipv4(17, gtp)),
  ]));
  return seeds;
}

/** Loads the seed corpus: shared captures (when present), lab-excerpt windows and synthetic captures. */
function loadSeeds(): { seeds: Uint8Array[]; names: string[] } {
  const seeds: Uint8Array[] = [];
  const names: string[] = [];
  const add = (name: string, bufs: Uint8Array[]): void => {
    bufs.forEach((b, i) => { seeds.push(b); names.push(bufs.length > 1 ? `${name}#${i}` : name); });
  };
  const dir = join(SHARED, 'datasets', 'peers', 'nfstream', 'pcaps');
  for (const f of SHARED_SEEDS) {
    const p = join(dir, f);
    if (existsSync(p)) add(f, windows(new Uint8Array(readFileSync(p)), statSync(p).size > 3 * SEED_BYTES ? 2 : 1));
  }
  const lab = join(REPO, 'datasets', 'lab-excerpt', 'capture.pcap');
  if (existsSync(lab)) add('lab-excerpt/capture.pcap', windows(new Uint8Array(readFileSync(lab)), 6));
  add('synthetic', syntheticSeeds());
  return { seeds, names };
}

// ---------------------------------------------------------------------------------------------------------------
// Mutators
// ---------------------------------------------------------------------------------------------------------------

const HUGE = [0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0xfffffffc, 262144, 262145, 0x01000000, 0x01000004];

/** Structural mutators work on the split capture; each returns a short description for the crash report. */
type StructMutator = (c: Capture, r: Rng, seeds: readonly Uint8Array[]) => string | null;
/** Byte mutators work on the joined bytes and return the new bytes. */
type ByteMutator = (b: Uint8Array, r: Rng) => [Uint8Array, string];

/** Index of a random packet unit, or -1. */
function randomPacket(c: Capture, r: Rng): number {
  const lts = linkTypes(c);
  const idx: number[] = [];
  c.units.forEach((u, i) => { if (packetOf(c, u, lts)) idx.push(i); });
  return idx.length ? r.pick(idx) : -1;
}

/** Applies `f` to the IP header of a random IPv4/IPv6 packet of the capture (in place). */
function withIp(c: Capture, r: Rng, v: 4 | 6, f: (d: Uint8Array, o: number) => string): string | null {
  const lts = linkTypes(c);
  const cands: [number, number][] = [];
  c.units.forEach((u, i) => {
    const p = packetOf(c, u, lts);
    if (!p) return;
    const d = u.subarray(p[0], p[0] + p[1]);
    const n = netHeader(d, p[2]);
    if (n && n[1] === v) cands.push([i, n[0]]);
  });
  if (cands.length === 0) return null;
  const [i, o] = r.pick(cands);
  const u = c.units[i]!;
  const p = packetOf(c, u, lts)!;
  return `unit ${i}: ${f(u.subarray(p[0], p[0] + p[1]), o)}`;
}

const STRUCT_MUTATORS: [name: string, weight: number, f: StructMutator][] = [
  ['record-length', 6, (c, r) => {
    if (c.units.length === 0) return null;
    const i = r.int(c.units.length);
    const u = c.units[i]!;
    const v = r.chance(0.7) ? r.pick(HUGE) : r.u32();
    if (c.format === 'pcap') {
      const field = r.pick([8, 12]);
      const val = r.chance(0.3) ? (rd32(u, 8, c.le) + r.pick([-1, 1, 4, -4])) >>> 0 : v;
      wr32(u, field, val, c.le);
      return `record ${i} ${field === 8 ? 'captured' : 'original'} length := ${val}`;
    }
    const field = r.pick([4, 4, 4, 'trailer', 20, 24, 8] as const);
    if (field === 'trailer') { wr32(u, u.length - 4, v, c.le); return `block ${i} trailing length := ${v}`; }
    const val = field === 4 && r.chance(0.3) ? (u.length + r.pick([-4, 4, 8, 1, -1])) >>> 0 : v;
    wr32(u, field, val, c.le);
    return `block ${i} field @${field} := ${val}`;
  }],
  ['file-header', 2, (c, r) => {
    if (c.format === 'pcap') {
      const h = c.head!;
      const what = r.int(4);
      if (what === 0) { const v = r.pick([0, 1, 13, 40, 0xffffffff, r.u32()]); wr32(h, 16, v, c.le); return `snaplen := ${v}`; }
      if (what === 1) { const v = r.pick([0, 1, 101, 113, 276, 0, 108, 228, 229, 9, 50, 104, 10, 105, 127, 239, 12, 14, r.u32()]); wr32(h, 20, v, c.le); return `link type := ${v}`; }
      if (what === 2) { const v = r.pick([1, 3, 0xffff]); wr16(h, 4, v, c.le); return `major version := ${v}`; }
      const magics = [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34, 0x34cdb2a1, 0xd4c3b2a1];
      const m = r.pick(magics);
      wr32(h, 0, m, true);
      return `magic := 0x${m.toString(16)}`;
    }
    const shb = c.units[0];
    if (!shb) return null;
    const what = r.int(3);
    if (what === 0) { wr32(shb, 8, r.pick([0x4d3c2b1a, 0x1a2b3c4d, r.u32()]), true); return 'byte-order magic swapped/changed'; }
    if (what === 1) { wr16(shb, 12, r.pick([0, 2, 0xffff]), c.le); return 'section major version changed'; }
    for (let k = 8; k < 16; k++) shb[k] = r.u32() & 0xff; // section length / version garbage
    return 'section header fields randomised';
  }],
  ['swap-magic', 1, (c) => {
    if (c.format === 'pcap') { c.head!.subarray(0, 4).reverse(); return 'pcap magic byte-swapped'; }
    const shb = c.units[0];
    if (!shb) return null;
    shb.subarray(8, 12).reverse();
    return 'pcapng byte-order magic byte-swapped';
  }],
  ['snaplen-cut', 4, (c, r) => {
    // Every packet cut to k bytes (k below the link + IP + transport headers), original length kept.
    const k = r.pick([0, 1, 4, 13, 14, 15, 18, 20, 24, 33, 34, 38, 40, 53, 54, 60, r.int(80)]);
    const lts = linkTypes(c);
    c.units = c.units.map((u) => {
      const p = packetOf(c, u, lts);
      if (!p || p[1] <= k) return u;
      const orig = c.format === 'pcap' ? rd32(u, 12, c.le) : blockType(c, u) === SPB ? rd32(u, 8, c.le) : rd32(u, 24, c.le);
      return rebuildPacket(c, u, u.slice(p[0], p[0] + k), Math.max(orig, p[1]));
    });
    if (c.format === 'pcap' && r.chance(0.5)) wr32(c.head!, 16, Math.max(k, 1), c.le);
    return `packets cut to ${k} bytes`;
  }],
  ['ipv4-header', 6, (c, r) => withIp(c, r, 4, (d, o) => {
    if (o + 20 > d.length) return 'ipv4 too short';
    const what = r.int(6);
    if (what === 0) { d[o] = (d[o]! & 0xf0) | r.int(16); return `IHL := ${d[o]! & 15}`; }
    if (what === 1) { const v = r.pick([0, 1, 19, 20, 21, 0xffff, d.length - o + 1, r.int(65536)]); wr16(d, o + 2, v, false); return `total length := ${v}`; }
    if (what === 2) { const v = r.pick([0x2000, 0x3fff, 0x1fff, 0x2001, 0x0001, r.int(65536)]); wr16(d, o + 6, v, false); return `flags/fragment := 0x${v.toString(16)}`; }
    if (what === 3) { const v = r.pick([0, 1, 4, 6, 17, 41, 47, 50, 51, 58, 132, 255]); d[o + 9] = v; return `protocol := ${v}`; }
    if (what === 4) { d[o] = (r.pick([0, 5, 6, 15]) << 4) | (d[o]! & 15); return `version := ${d[o]! >> 4}`; }
    // Transport ports set to a tunnel's, so garbage payload goes through the tunnel decoders.
    const l4 = o + ((d[o]! & 15) << 2);
    const port = r.pick([2152, 4789, 6081, 5247, 37008, 3544, 53, 443]);
    if (l4 + 4 <= d.length) wr16(d, l4 + 2, port, false);
    return `destination port := ${port}`;
  })],
  ['ipv4-overlapping-fragments', 2, (c, r) => {
    // Copies of one IPv4 packet as fragments of one datagram with overlapping offsets.
    const i = randomPacket(c, r);
    if (i < 0) return null;
    const lts = linkTypes(c);
    const u = c.units[i]!;
    const p = packetOf(c, u, lts)!;
    const d = u.subarray(p[0], p[0] + p[1]);
    const n = netHeader(d, p[2]);
    if (!n || n[1] !== 4 || n[0] + 20 > d.length) return null;
    const copies: Uint8Array[] = [];
    for (const [off, mf] of [[0, 1], [8, 1], [0, 1], [16, 0], [8, 0], [0x1fff * 8, 1]] as const) {
      const cp = u.slice();
      const q = packetOf(c, cp, lts)!;
      const dd = cp.subarray(q[0], q[0] + q[1]);
      wr16(dd, n[0] + 6, (off >> 3) | (mf ? 0x2000 : 0), false);
      copies.push(cp);
    }
    c.units.splice(i + 1, 0, ...copies);
    return `unit ${i}: 6 overlapping fragments inserted`;
  }],
  ['ipv6-next-header-loop', 5, (c, r) => withIp(c, r, 6, (d, o) => {
    if (o + 40 > d.length) return 'ipv6 too short';
    // Extension headers that point at extension headers until the captured bytes end.
    const types = [0, 43, 44, 60, 135, 51];
    const lenMode = r.int(3); // 0: minimal (8-byte steps), 1: random, 2: huge
    d[o + 6] = r.pick(types);
    if (r.chance(0.3)) wr16(d, o + 4, r.pick([0, 0xffff, 8]), false);
    for (let p = o + 40; p + 8 <= d.length; p += 8) {
      d[p] = r.chance(0.95) ? r.pick(types) : r.pick([6, 17, 58, 59, 50]);
      d[p + 1] = lenMode === 0 ? 0 : lenMode === 1 ? r.int(4) : 255;
      if (d[p] === 44 || r.chance(0.2)) wr16(d, p + 2, r.int(65536), false);
    }
    return `extension-header chain (${['minimal', 'random', 'huge'][lenMode]} lengths)`;
  })],
  ['timestamp', 2, (c, r) => {
    const i = randomPacket(c, r);
    if (i < 0) return null;
    const u = c.units[i]!;
    if (c.format === 'pcap') {
      wr32(u, r.pick([0, 4]), r.pick([0, 0xffffffff, 999999, 1000000, 999999999, 1e9, r.u32()]), c.le);
      return `record ${i} timestamp changed`;
    }
    if (blockType(c, u) !== EPB && blockType(c, u) !== PB) return null;
    wr32(u, r.pick([12, 16]), r.pick([0, 0xffffffff, 0x80000000, 0x7fffffff, r.u32()]), c.le);
    return `block ${i} timestamp changed`;
  }],
  ['interface-options', 2, (c, r) => {
    // An IDB rebuilt with random if_tsresol and if_tsoffset (64-bit, possibly negative).
    if (c.format !== 'pcapng') return null;
    const i = c.units.findIndex((u) => blockType(c, u) === IDB);
    if (i < 0) return null;
    const old = c.units[i]!;
    const b = new Uint8Array(16 + 8 + 12 + 4 + 4);
    b.set(old.subarray(0, 16));
    wr32(b, 4, b.length, c.le);
    let o = 16;
    wr16(b, o, 9, c.le); wr16(b, o + 2, 1, c.le); b[o + 4] = r.pick([0, 6, 9, 19, 20, 0x80, 0x8a, 0xbf, 0xc0, 0xff, r.int(256)]); o += 8;
    wr16(b, o, 14, c.le); wr16(b, o + 2, 8, c.le);
    wr32(b, o + 4, r.u32(), c.le); wr32(b, o + 8, r.pick([0, 0xffffffff, 0x80000000, 0x7fffffff, r.u32()]), c.le); o += 12;
    wr32(b, o, 0, c.le); o += 4; // opt_endofopt
    wr32(b, o, b.length, c.le);
    c.units[i] = b;
    return `IDB ${i}: if_tsresol 0x${b[20]!.toString(16)}, random if_tsoffset`;
  }],
  ['units', 3, (c, r, seeds) => {
    if (c.units.length === 0) return null;
    const i = r.int(c.units.length);
    const what = r.int(5);
    if (what === 0) { c.units.splice(i, 0, c.units[i]!.slice()); return `unit ${i} duplicated`; }
    if (what === 1) { c.units.splice(i, 1); return `unit ${i} dropped`; }
    if (what === 2) { const j = r.int(c.units.length); [c.units[i], c.units[j]] = [c.units[j]!, c.units[i]!]; return `units ${i} and ${j} swapped`; }
    if (what === 3) {
      // A unit from another seed of the same format (other link type, interface id, byte order).
      const other = splitCapture(r.pick(seeds));
      if (!other || other.format !== c.format || other.units.length === 0) return null;
      c.units.splice(i, 0, r.pick(other.units).slice());
      return `unit of another seed inserted at ${i}`;
    }
    for (let k = 0; k < 50 && c.units.length < 400; k++) c.units.push(c.units[i]!.slice());
    return `unit ${i} repeated 50 times`;
  }],
];

const BYTE_MUTATORS: [name: string, weight: number, f: ByteMutator][] = [
  ['bit-flips', 6, (b, r) => {
    const n = 1 + r.int(8);
    for (let k = 0; k < n && b.length; k++) b[r.int(b.length)]! ^= 1 << r.int(8);
    return [b, `${n} bit flips`];
  }],
  ['byte-run', 3, (b, r) => {
    if (!b.length) return [b, 'byte run on empty input'];
    const at = r.int(b.length), len = 1 + r.int(Math.min(64, b.length - at));
    const v = r.pick([0, 0xff, 0x7f, 0x80, -1]);
    for (let k = at; k < at + len; k++) b[k] = v < 0 ? r.int(256) : v;
    return [b, `byte run of ${len} at ${at} := ${v < 0 ? 'random' : v}`];
  }],
  ['truncate-at-boundary', 4, (b, r) => {
    const c = splitCapture(b);
    const cuts = [0, 1, 3, 4, 23, 24];
    if (c) {
      let o = c.head?.length ?? 0;
      cuts.push(o);
      for (const u of c.units) { o += u.length; cuts.push(o); }
    }
    const at = Math.min(r.pick(cuts), b.length);
    return [b.slice(0, at), `truncated at record boundary ${at}`];
  }],
  ['truncate-inside', 4, (b, r) => {
    const at = r.int(b.length + 1);
    return [b.slice(0, at), `truncated at ${at}`];
  }],
];

function pickWeighted<T extends [string, number, unknown]>(list: readonly T[], r: Rng): T {
  let total = 0;
  for (const m of list) total += m[1];
  let x = r.int(total);
  for (const m of list) { if ((x -= m[1]) < 0) return m; }
  return list[0]!;
}

/** Builds input `i` of a run: a seed and 1–5 stacked mutations. Returns the bytes and what was done. */
export function makeInput(seeds: readonly Uint8Array[], names: readonly string[], seed: number, i: number): { bytes: Uint8Array; log: string[] } {
  const r = new Rng(inputSeed(seed, i));
  const s = r.int(seeds.length);
  const log = [`seed capture ${names[s]}`];
  let bytes: Uint8Array = seeds[s]!.slice();
  let n = 1;
  while (n < 5 && r.chance(0.45)) n++;
  const structural = r.chance(0.7);
  if (structural) {
    const c = splitCapture(bytes);
    if (c) {
      const k = r.chance(0.5) ? 1 : n;
      for (let j = 0; j < k; j++) {
        const [name, , f] = pickWeighted(STRUCT_MUTATORS, r);
        const what = f(c, r, seeds);
        if (what) log.push(`${name}: ${what}`);
      }
      bytes = joinCapture(c);
    }
  }
  const nb = structural ? (r.chance(0.5) ? 0 : 1) : n;
  for (let j = 0; j < nb; j++) {
    const [name, , f] = pickWeighted(BYTE_MUTATORS, r);
    const [b, what] = f(bytes, r);
    bytes = b;
    log.push(`${name}: ${what}`);
  }
  return { bytes, log };
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline under test (runs in a worker, or in-process for --replay)
// ---------------------------------------------------------------------------------------------------------------

/** What one input gave. */
interface Outcome {
  /** 'ok' when every property held. */
  status: 'ok' | 'crash';
  /** Error kinds seen across the runs of this input (e.g. `CaptureError:CORRUPT`), each once. */
  kinds: string[];
  flows: number;
  packets: number;
  /** A property violation: message and stack. */
  failure?: string;
  ms: number;
}

const INPUT_ERRORS = new Set(['CaptureError', 'DatasetError', 'ModelError', 'OutputError', 'TableError']);

/** Builds the runner: loads the model and labels once, returns `run(path, bytes, r)`. */
async function makeRunner(): Promise<(path: string, bytes: Uint8Array, r: Rng) => Promise<Outcome>> {
  const { extractCapture } = await import('../src/features/extract.js');
  const { profileOptions } = await import('../src/flow/profiles.js');
  const { createFeatureSet } = await import('../src/features/registry.js');
  const { FlowCsvWriter } = await import('../src/dataset/csv.js');
  const { OutputSink } = await import('../src/dataset/output.js');
  const { RuleLabeller } = await import('../src/dataset/labels.js');
  const { loadBundle, ModelPipeline } = await import('../src/model/bundle.js');
  const { createCaptureParser } = await import('../src/capture/reader.js');
  const { CaptureError } = await import('../src/capture/errors.js');
  const { csvLayout } = await import('../src/cli/commands/extract.js');

  const set = createFeatureSet();
  const names = set.features.map((f) => f.name);
  const textNames = set.textColumns.map((c) => c.name);
  const labeller = RuleLabeller.fromFile(LABELS);
  const scorer = new ModelPipeline(loadBundle(MODEL)).bind(names);
  const proba = new Float64Array(16);
  const small = { initialCapacity: 16 };
  /** Every profile option, as the CLI would build them (plus a tiny table to exercise growth and eviction). */
  const optionSets: { name: string; opts: Record<string, unknown>; profile: string }[] = [
    { name: 'flowsift', profile: 'flowsift', opts: { ...profileOptions('flowsift'), maxFlows: 500_000, ...small } },
    { name: 'nfstream', profile: 'nfstream', opts: { ...profileOptions('nfstream'), maxFlows: 500_000, ...small } },
    { name: 'nfstream+stats+ip', profile: 'nfstream', opts: { ...profileOptions('nfstream', { statisticalAnalysis: true, accountingMode: 1 }), maxFlows: 500_000, ...small } },
    { name: 'no-tcp-termination,no-tunnels', profile: 'flowsift', opts: { ...profileOptions('flowsift', { tcpTermination: false, decodeTunnels: false }), ...small } },
    { name: 'tiny-timeouts,max-flows-2', profile: 'flowsift', opts: { ...profileOptions('flowsift', { idleTimeoutUs: 1, activeTimeoutUs: 2 }), maxFlows: 2, ...small } },
    { name: 'nfstream-zero-timeouts', profile: 'nfstream', opts: { ...profileOptions('nfstream', { idleTimeoutUs: 0, activeTimeoutUs: 0 }), maxFlows: 3, ...small } },
    { name: 'strict', profile: 'flowsift', opts: { ...profileOptions('flowsift'), strict: true, ...small } },
  ];

  /** Checks an error against the property; returns its kind or throws a description of the violation. */
  const classify = (e: unknown, path: string, size: number): string => {
    if (!(e instanceof Error) || !INPUT_ERRORS.has(e.name)) throw e;
    if (e instanceof CaptureError) {
      if (e.file !== path || !e.message.startsWith(`${path}: `)) throw new Error(`CaptureError without the file name: ${e.message}`);
      const located = e.code !== 'IO' && e.code !== 'NOT_FOUND' && e.code !== 'IS_DIRECTORY' && e.code !== 'PERMISSION';
      if (located && !(e.offset >= 0 && e.offset <= size)) throw new Error(`CaptureError ${e.code} with offset ${e.offset} outside the input (${size} bytes): ${e.message}`);
      if ((e.code === 'CORRUPT' || e.code === 'TRUNCATED') && !e.message.includes(`byte ${e.offset}`)) {
        throw new Error(`CaptureError ${e.code} does not name its byte offset ${e.offset}: ${e.message}`);
      }
      if (e.message.includes('\n')) throw new Error(`CaptureError message spans lines: ${JSON.stringify(e.message)}`);
      return `CaptureError:${e.code}`;
    }
    return e.name;
  };

  return async (path, bytes, r) => {
    const t0 = performance.now();
    const kinds = new Set<string>();
    let flows = 0;
    let packets = 0;
    try {
      for (const os of optionSets) {
        const sink = OutputSink.open('/dev/null', 1 << 16);
        const writer = new FlowCsvWriter(sink, names, textNames, true, csvLayout(os.profile, names, os.opts.statisticalAnalysis === true));
        try {
          const s = await extractCapture(path, (flow) => {
            const f = flow.features;
            for (let j = 0; j < f.length; j++) {
              if (!Number.isFinite(f[j]!)) throw new Error(`[${os.name}] feature ${names[j]} is ${f[j]} (flow ${flow.flowId})`);
            }
            const label = labeller.labelOf(flow);
            writer.write(flow, label);
            scorer.predictProbaRow(f, proba);
            void flow.endReason;
            flows++;
          }, os.opts);
          packets += s.counters.packets;
          if (s.capture.truncatedAt !== undefined && !s.capture.warnings.some((w) => w.includes(`byte ${s.capture.truncatedAt}`))) {
            throw new Error(`[${os.name}] truncated at ${s.capture.truncatedAt} without a warning naming the offset`);
          }
          sink.close();
        } catch (e) {
          sink.abort();
          kinds.add(classify(e, path, bytes.length));
        }
      }
      // Differential: the push parser fed in random chunks gives the same packets and error as one push.
      const whole = parseChunked(createCaptureParser, bytes, [bytes.length], path);
      const sizes: number[] = [];
      for (let left = bytes.length; left > 0;) {
        const n = Math.min(left, 1 + r.int(r.chance(0.3) ? 8 : 600));
        sizes.push(n);
        left -= n;
      }
      const chunked = parseChunked(createCaptureParser, bytes, sizes, path);
      if (whole !== chunked) throw new Error(`chunked read differs from one read: ${chunked} vs ${whole}`);
    } catch (e) {
      const failure = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
      return { status: 'crash', kinds: [...kinds], flows, packets, failure, ms: performance.now() - t0 };
    }
    return { status: 'ok', kinds: [...kinds], flows, packets, ms: performance.now() - t0 };
  };
}

/** Summary text of a push-parser run over `bytes` split into `sizes` (packets, lengths and the error if any). */
function parseChunked(
  create: typeof import('../src/capture/reader.js').createCaptureParser, bytes: Uint8Array, sizes: number[], name: string,
): string {
  let n = 0;
  let sum = 0;
  const p = create((pkt) => {
    n++;
    sum = (sum * 31 + pkt.capLen + pkt.origLen * 7 + pkt.recordOffset + pkt.tsNsec + pkt.linkType) % 1e9;
  }, { name });
  try {
    let o = 0;
    for (const s of sizes) { p.push(bytes.subarray(o, o + s)); o += s; }
    const sum2 = p.end();
    return `${n} packets (${sum}), truncatedAt ${sum2.truncatedAt}, snaplen-truncated ${sum2.truncatedPackets}`;
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'CaptureError') throw e;
    const ce = e as Error & { code: string; offset: number };
    return `${n} packets (${sum}), ${ce.code} at ${ce.offset}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------------------------

async function workerMain(): Promise<void> {
  const { scratch } = workerData as { scratch: string };
  const run = await makeRunner();
  parentPort!.on('message', (m: { id: number; bytes: Uint8Array; rseed: number }) => {
    writeFileSync(scratch, m.bytes);
    run(scratch, m.bytes, new Rng(m.rseed)).then(
      (o) => parentPort!.postMessage({ id: m.id, outcome: o }),
      (e) => parentPort!.postMessage({ id: m.id, outcome: { status: 'crash', kinds: [], flows: 0, packets: 0, ms: 0, failure: String(e?.stack ?? e) } }),
    );
  });
  parentPort!.postMessage({ ready: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------------------------

interface Args {
  count: number;
  seed: number;
  workers: number;
  timeLimit: number;
  json: boolean;
  quiet: boolean;
  replay: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 1000, seed: 1, workers: Math.max(1, cpus().length), timeLimit: 2000, json: false, quiet: false, replay: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${k} needs a non-negative number`);
      return v;
    };
    if (k === '--count') a.count = Math.floor(num());
    else if (k === '--seed') a.seed = Math.floor(num());
    else if (k === '--workers') a.workers = Math.max(1, Math.floor(num()));
    else if (k === '--time-limit') a.timeLimit = num();
    else if (k === '--json') a.json = true;
    else if (k === '--quiet' || k === '-q') a.quiet = true;
    else if (k === '--replay') a.replay = argv[++i] ?? null;
    else throw new Error(`unknown option ${k} (see the header of scripts/fuzz.ts)`);
  }
  return a;
}

/** Saves a failing input and its description; returns the input's path. */
function saveFailure(kind: 'crash' | 'hang', seed: number, i: number, bytes: Uint8Array, log: string[], detail: string): string {
  mkdirSync(CRASH_DIR, { recursive: true });
  const base = join(CRASH_DIR, `${kind}-seed${seed}-${i}`);
  writeFileSync(`${base}.pcap`, bytes);
  writeFileSync(`${base}.txt`, `${kind} on input ${i} of \`npm run fuzz -- --seed ${seed}\`\n\nmutations:\n${log.map((l) => `  ${l}`).join('\n')}\n\n${detail}\n`);
  return `${base}.pcap`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

async function fuzzMain(args: Args): Promise<number> {
  const t0 = performance.now();
  const { seeds, names } = loadSeeds();
  const log = (s: string): void => { if (!args.quiet) process.stderr.write(`${s}\n`); };
  log(`flowsift fuzz: seed ${args.seed}, ${args.count.toLocaleString('en-US')} inputs from ${seeds.length} seed captures, ${args.workers} worker(s), ${args.timeLimit} ms per input`);
  const scratchDir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;

  const kinds = new Map<string, number>();
  const failures: string[] = [];
  let crashes = 0, hangs = 0, done = 0, next = 0, flows = 0, packets = 0, okInputs = 0, peakRss = 0;
  let slowest = { ms: 0, i: -1 };
  let lastReport = performance.now();

  await new Promise<void>((finish) => {
    let live = 0;
    const start = (slot: number): void => {
      const scratch = join(scratchDir, `flowsift-fuzz-${process.pid}-${slot}-${Date.now()}.pcap`);
      const w = new Worker(boot, { eval: true, workerData: { scratch }, resourceLimits: { maxOldGenerationSizeMb: 768 } });
      live++;
      let current: { i: number; bytes: Uint8Array; log: string[]; timer: NodeJS.Timeout } | null = null;
      let dead = false;
      const retire = (): void => {
        if (dead) return;
        dead = true;
        live--;
        rmSync(scratch, { force: true });
      };
      const dispatch = (): void => {
        if (next >= args.count) {
          void w.terminate();
          retire();
          if (live === 0) finish();
          return;
        }
        const i = next++;
        const { bytes, log: mlog } = makeInput(seeds, names, args.seed, i);
        const timer = setTimeout(() => {
          // No answer in time: a hang. Save the input, replace the worker.
          hangs++;
          const path = saveFailure('hang', args.seed, i, bytes, mlog, `no answer within ${args.timeLimit} ms`);
          failures.push(`hang: input ${i} (${path})`);
          log(`HANG input ${i}: saved ${path}`);
          done++;
          current = null;
          void w.terminate();
          retire();
          start(slot);
        }, args.timeLimit);
        current = { i, bytes, log: mlog, timer };
        w.postMessage({ id: i, bytes, rseed: inputSeed(args.seed ^ 0x5bd1e995, i) });
      };
      w.on('message', (m: { ready?: boolean; id?: number; outcome?: Outcome }) => {
        if (m.ready) { dispatch(); return; }
        if (!current || m.id !== current.i || !m.outcome) return;
        clearTimeout(current.timer);
        const o = m.outcome;
        done++;
        flows += o.flows;
        packets += o.packets;
        for (const k of o.kinds) kinds.set(k, (kinds.get(k) ?? 0) + 1);
        if (o.kinds.length === 0 && o.status === 'ok') okInputs++;
        if (o.ms > slowest.ms) slowest = { ms: o.ms, i: current.i };
        if (o.status === 'crash') {
          crashes++;
          const path = saveFailure('crash', args.seed, current.i, current.bytes, current.log, o.failure ?? '');
          failures.push(`crash: input ${current.i}: ${(o.failure ?? '').split('\n')[0]} (${path})`);
          log(`CRASH input ${current.i}: ${(o.failure ?? '').split('\n')[0]}\n  saved ${path}`);
        }
        const now = performance.now();
        if (now - lastReport > 10_000) {
          lastReport = now;
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
          log(`  ${done.toLocaleString('en-US')} / ${args.count.toLocaleString('en-US')} inputs, ${crashes} crashes, ${hangs} hangs, ${((now - t0) / 1000).toFixed(0)} s, RSS ${mib(process.memoryUsage().rss)}`);
        }
        current = null;
        dispatch();
      });
      w.on('error', (e) => {
        // The worker died (out of memory, a throw outside the runner): the current input crashed it.
        if (dead) return;
        if (current) {
          clearTimeout(current.timer);
          crashes++;
          done++;
          const path = saveFailure('crash', args.seed, current.i, current.bytes, current.log, `worker died: ${e.stack ?? e.message}`);
          failures.push(`crash: input ${current.i}: worker died: ${e.message} (${path})`);
          log(`CRASH input ${current.i}: worker died: ${e.message}\n  saved ${path}`);
          current = null;
        } else {
          failures.push(`worker failed to start: ${e.stack ?? e.message}`);
          crashes++;
          retire();
          if (live === 0) finish();
          return;
        }
        retire();
        start(slot);
      });
    };
    for (let s = 0; s < Math.min(args.workers, Math.max(1, args.count)); s++) start(s);
    if (args.count === 0) finish();
  });

  const seconds = (performance.now() - t0) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const summary = {
    seed: args.seed,
    inputs: done,
    crashes,
    hangs,
    okInputs,
    errorsByKind: Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])),
    flows,
    packets,
    slowestMs: Math.round(slowest.ms),
    slowestInput: slowest.i,
    peakRssMiB: Math.round(peakRss / 1048576),
    seconds: Math.round(seconds),
    failures,
  };
  const out = [
    `inputs tried: ${done.toLocaleString('en-US')} (seed ${args.seed}, ${seeds.length} seed captures, ${seconds.toFixed(0)} s)`,
    `crashes: ${crashes}`,
    `hangs: ${hangs} (limit ${args.timeLimit} ms per input; slowest ${slowest.ms.toFixed(0)} ms, input ${slowest.i})`,
    `inputs without any error: ${okInputs.toLocaleString('en-US')}; flows: ${flows.toLocaleString('en-US')}; packets: ${packets.toLocaleString('en-US')} (over 7 option sets)`,
    'errors by kind (inputs):',
    ...[...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k.padEnd(28)} ${n.toLocaleString('en-US')}`),
    `peak RSS: ${mib(peakRss)}`,
    ...failures.map((f) => `FAIL ${f}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  return crashes + hangs > 0 ? 1 : 0;
}

/** Runs one saved input in-process (no worker), printing the outcome and any stack. */
async function replayMain(file: string): Promise<number> {
  const bytes = new Uint8Array(readFileSync(file));
  const run = await makeRunner();
  const o = await run(resolve(file), bytes, new Rng(1));
  process.stdout.write(`${JSON.stringify({ ...o, failure: undefined })}\n`);
  if (o.failure) process.stdout.write(`${o.failure}\n`);
  return o.status === 'ok' ? 0 : 1;
}

if (!isMainThread) {
  void workerMain();
} else if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exit(2);
  }
  (args.replay ? replayMain(args.replay) : fuzzMain(args)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`fuzz: ${e?.stack ?? e}\n`);
    process.exit(70);
  });
}

export { loadSeeds, splitCapture };

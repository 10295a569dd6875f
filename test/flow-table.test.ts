import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../src/decode/types.js';
import { EndReason, FlowTable, type EndReasonCode, type FlowObserver } from '../src/flow/table.js';
import { formatAddress } from '../src/flow/key.js';
import { IpProto, pkt, TcpFlag, tcpConversation } from './helpers/packets.js';

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

interface Ended { src: string; dst: string; sport: number; dport: number; fwd: number; bwd: number; reason: EndReasonCode; first: number; last: number }

/** Observer recording each ended flow. */
function recorder(): { obs: FlowObserver; ended: Ended[]; table?: FlowTable } {
  const r: { obs: FlowObserver; ended: Ended[]; table?: FlowTable } = {
    ended: [],
    obs: {
      onFlowStart() {},
      onPacket() {},
      onFlowEnd(slot, reason) {
        const t = r.table!;
        r.ended.push({
          src: formatAddress(t.words, t.srcAddrOffset(slot), t.ipVersion(slot)), dst: formatAddress(t.words, t.dstAddrOffset(slot), t.ipVersion(slot)),
          sport: t.srcPort(slot), dport: t.dstPort(slot), fwd: t.fwdPackets(slot), bwd: t.bwdPackets(slot), reason,
          first: t.firstSeenUs(slot), last: t.lastSeenUs(slot),
        });
      },
    },
  };
  return r;
}

function run(packets: DecodedPacket[], opts = {}): Ended[] {
  const r = recorder();
  const table = new FlowTable(r.obs, opts);
  r.table = table;
  for (const p of packets) table.process(p);
  table.flush();
  return r.ended;
}

describe('FlowTable', () => {
  it('keeps a whole TCP connection, trailing ACK included, in one biflow', () => {
    const k = tcpConversation('10.0.0.1', 40000, '10.0.0.2', 80);
    const ended = run([
      k.c(0, SYN), k.s(100, SYN | ACK), k.c(200, ACK), k.c(300, PSH | ACK, 100), k.s(400, PSH | ACK, 500),
      k.c(500, FIN | ACK), k.s(600, FIN | ACK), k.c(700, ACK),
    ]);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, fwd: 5, bwd: 3, reason: EndReason.TCP_END, first: 0, last: 700 });
  });

  it('starts a new flow for a SYN after FIN both ways, and ends the old one first', () => {
    const k = tcpConversation('10.0.0.1', 40000, '10.0.0.2', 80);
    const ended = run([k.c(0, SYN), k.s(10, SYN | ACK), k.c(20, FIN | ACK), k.s(30, FIN | ACK), k.c(40, ACK), k.c(1000, SYN), k.s(1010, RST | ACK)]);
    expect(ended.map((e) => [e.fwd, e.bwd, e.reason])).toEqual([[3, 2, EndReason.TCP_END], [1, 1, EndReason.TCP_END]]);
  });

  it('keeps packets after an RST in the flow (no appendix flow) and keeps SYN retransmissions', () => {
    const k = tcpConversation('10.0.0.66', 5555, '10.0.0.10', 22);
    const ended = run([k.c(0, SYN), k.c(1_000_000, SYN), k.s(1_000_100, RST | ACK), k.c(1_000_200, RST)]);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ fwd: 3, bwd: 1 });
  });

  it('does not end TCP flows on FIN/RST when termination is off (nfstream profile)', () => {
    const k = tcpConversation('10.0.0.1', 40000, '10.0.0.2', 80);
    const ended = run([k.c(0, SYN), k.s(10, RST | ACK), k.c(1000, SYN), k.s(1010, RST | ACK)], { tcpTermination: false });
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ fwd: 2, bwd: 2, reason: EndReason.END_OF_INPUT });
  });

  it('splits on the idle timeout and exports the expired flow before the next packet is accounted', () => {
    const a = (t: number) => pkt({ t, src: '10.1.1.1', dst: '10.1.1.2', sport: 5353, dport: 53, proto: IpProto.UDP, payload: 40 });
    const b = (t: number) => pkt({ t, src: '10.1.1.2', dst: '10.1.1.1', sport: 53, dport: 5353, proto: IpProto.UDP, payload: 80 });
    const ended = run([a(0), b(1000), b(121_000_001), a(121_000_500)], { idleTimeoutUs: 120e6 });
    expect(ended.map((e) => [e.src, e.fwd, e.bwd, e.reason])).toEqual([
      ['10.1.1.1', 1, 1, EndReason.IDLE],
      // The second flow starts with the responder's packet: its sender becomes the initiator.
      ['10.1.1.2', 1, 1, EndReason.END_OF_INPUT],
    ]);
  });

  it('splits on the active timeout', () => {
    const ps: DecodedPacket[] = [];
    for (let t = 0; t <= 2000; t += 10) ps.push(pkt({ t: t * 1e6, src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, proto: IpProto.UDP }));
    const ended = run(ps, { activeTimeoutUs: 1800e6 });
    expect(ended.map((e) => [e.fwd, e.reason, e.first / 1e6, e.last / 1e6])).toEqual([[180, EndReason.ACTIVE, 0, 1790], [21, EndReason.END_OF_INPUT, 1800, 2000]]);
  });

  it('separates VLANs and protocols, and handles IPv6 keys', () => {
    const ended = run([
      pkt({ t: 0, src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, proto: IpProto.UDP, vlan: 10 }),
      pkt({ t: 1, src: '10.0.0.2', dst: '10.0.0.1', sport: 2, dport: 1, proto: IpProto.UDP, vlan: 20 }),
      pkt({ t: 2, src: '10.0.0.2', dst: '10.0.0.1', sport: 2, dport: 1, proto: IpProto.UDP, vlan: 10 }),
      pkt({ t: 3, src: '2001:db8::1', dst: '2001:db8::2', sport: 1, dport: 2, proto: IpProto.UDP }),
      pkt({ t: 4, src: '2001:db8::2', dst: '2001:db8::1', sport: 2, dport: 1, proto: IpProto.UDP }),
      pkt({ t: 5, src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, proto: IpProto.TCP, flags: SYN }),
    ]);
    expect(ended.map((e) => [e.src, e.fwd, e.bwd])).toEqual([
      ['10.0.0.1', 1, 1], ['10.0.0.2', 1, 0], ['2001:db8::1', 1, 1], ['10.0.0.1', 1, 0],
    ]);
  });

  it('evicts the least recently active flow when maxFlows is reached', () => {
    const u = (t: number, sport: number) => pkt({ t, src: '10.0.0.1', dst: '10.0.0.2', sport, dport: 53, proto: IpProto.UDP });
    const ended = run([u(0, 1), u(1, 2), u(2, 1), u(3, 3), u(4, 4)], { maxFlows: 2 });
    expect(ended.map((e) => [e.sport, e.reason])).toEqual([
      [2, EndReason.EVICTED], [1, EndReason.EVICTED], [3, EndReason.END_OF_INPUT], [4, EndReason.END_OF_INPUT],
    ]);
  });

  // Idle 5 ms: a few hundred live flows, heavy slot reuse. Idle 100 ms over 2,000 ports: ~10k live flows, so the hash
  // index (sized by live flows) is rebuilt several times while slots are taken from the free list and fresh.
  it.each([
    { idleTimeoutUs: 5000, ports: 400 },
    { idleTimeoutUs: 100_000, ports: 2000 },
  ])('matches a Map-based model over 200k random packets with expiry (idle $idleTimeoutUs µs, $ports ports)', ({ idleTimeoutUs, ports }) => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const table = new FlowTable({ onFlowStart() {}, onPacket() {}, onFlowEnd(slot) { ended.push(`${table.srcPort(slot)}>${table.dstPort(slot)}:${table.fwdPackets(slot)}/${table.bwdPackets(slot)}`); } },
      { idleTimeoutUs, initialCapacity: 16 });
    const ended: string[] = [];
    // Reference: flows keyed by the unordered pair of ports; the Map is kept in least-recently-active order
    // (a packet moves its flow to the end), so expiry takes flows from the front.
    const ref = new Map<string, { a: number; b: number; fwd: number; bwd: number; last: number; seq: number }>();
    const refEnded: string[] = [];
    let seq = 0, most = 0;
    for (let i = 0; i < 200_000; i++) {
      const t = i * 10;
      for (const [k, f] of ref) {
        if (t - f.last <= idleTimeoutUs) break;
        refEnded.push(`${f.a}>${f.b}:${f.fwd}/${f.bwd}`);
        ref.delete(k);
      }
      const x = 1 + Math.floor(rnd() * ports), y = 1 + Math.floor(rnd() * ports);
      if (x === y) continue;
      const key = x < y ? `${x},${y}` : `${y},${x}`;
      const f = ref.get(key);
      if (f) {
        if (f.a === x) f.fwd++; else f.bwd++;
        f.last = t;
        ref.delete(key);
        ref.set(key, f);
      } else ref.set(key, { a: x, b: y, fwd: 1, bwd: 0, last: t, seq: seq++ });
      most = Math.max(most, ref.size);
      table.process(pkt({ t, src: '10.0.0.1', dst: '10.0.0.1', sport: x, dport: y, proto: IpProto.UDP }));
      if (i % 10_000 === 0) {
        expect(table.size).toBe(ref.size);
        // The index holds one entry per live flow (none left over from rebuilds or deletions), each where its slot's
        // record says it is (deletion is a tombstone written there), and the tombstones counted leave it at most half
        // full.
        const index = table as unknown as { buckets: Uint32Array; tombstones: number; i32: Int32Array };
        const buckets = index.buckets;
        let entries = 0, tombs = 0;
        for (let b = 0; b < buckets.length; b += 2) {
          const v = buckets[b];
          if (v === 0x7fffffff) tombs++; // TOMB
          else if (v !== 0) {
            entries++;
            expect(index.i32[(v - 1) * 32 + 15]).toBe(b / 2); // W_POS (record word 15) of slot v - 1
          }
        }
        expect(entries).toBe(table.size);
        expect(tombs).toBe(index.tombstones);
        expect((entries + tombs) * 2).toBeLessThanOrEqual(buckets.length / 2);
      }
    }
    table.flush();
    for (const f of [...ref.values()].sort((p, q) => p.seq - q.seq)) refEnded.push(`${f.a}>${f.b}:${f.fwd}/${f.bwd}`);
    expect(most).toBeGreaterThan(idleTimeoutUs / 20); // the live flows the case is meant to reach
    expect(ended.length).toBe(refEnded.length);
    expect(ended).toEqual(refEnded);
  });

  it('leaves a kept slot untouched until it is released, through growth and heavy reuse (sharedMemory)', () => {
    let seed = 777;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const describeSlot = (t: FlowTable, slot: number) => `${t.srcPort(slot)}>${t.dstPort(slot)}:${t.fwdPackets(slot)}/${t.bwdPackets(slot)}@${t.firstSeenUs(slot)}-${t.lastSeenUs(slot)}`;
    const atEnd: string[] = [], atRelease: string[] = [];
    let pending: { slot: number; i: number }[] = [];
    const plain: string[] = [];
    const release = () => {
      for (const p of pending) { atRelease[p.i] = describeSlot(table, p.slot); table.release(p.slot); }
      pending = [];
    };
    const table = new FlowTable({
      onFlowStart() {}, onPacket() {},
      onFlowEnd(slot) {
        atEnd.push(describeSlot(table, slot));
        table.keep(slot);
        pending.push({ slot, i: atEnd.length - 1 });
        // Give slots back in batches of random size, sometimes while the flow is still ending.
        if (rnd() < 0.01) release();
      },
    }, { idleTimeoutUs: 5000, initialCapacity: 16, sharedMemory: true });
    const reference = new FlowTable({ onFlowStart() {}, onPacket() {}, onFlowEnd(slot) { plain.push(describeSlot(reference, slot)); } },
      { idleTimeoutUs: 5000, initialCapacity: 16 });
    expect(table.recordsBuffer).toBeInstanceOf(SharedArrayBuffer);
    expect(reference.recordsBuffer).toBeInstanceOf(ArrayBuffer);
    for (let i = 0; i < 100_000; i++) {
      const x = 1 + Math.floor(rnd() * 300), y = 1 + Math.floor(rnd() * 300);
      if (x === y) continue;
      const p = pkt({ t: i * 10, src: '10.0.0.1', dst: '10.0.0.1', sport: x, dport: y, proto: IpProto.UDP });
      table.process(p);
      reference.process(p);
    }
    table.flush();
    reference.flush();
    release();
    expect(table.capacity).toBeGreaterThan(16); // grew while slots were kept
    expect(atEnd.length).toBeGreaterThan(10_000);
    expect(atEnd).toEqual(plain);
    expect(atRelease).toEqual(atEnd);
  });

  it('refuses to keep a slot outside its end, and to release a slot twice or one never kept', () => {
    let kept = -1;
    const table = new FlowTable({ onFlowStart() {}, onPacket() {}, onFlowEnd(slot) { kept = slot; table.keep(slot); } }, { sharedMemory: true });
    const u = (t: number, sport: number) => pkt({ t, src: '10.0.0.1', dst: '10.0.0.2', sport, dport: 53, proto: IpProto.UDP });
    table.process(u(0, 1));
    expect(() => table.keep(0)).toThrow(/slot 0 is not ending/);
    expect(() => table.release(0)).toThrow(/slot 0 is not kept/);
    table.flush();
    expect(kept).toBe(0);
    table.release(kept);
    expect(() => table.release(kept)).toThrow(/not kept/);
    table.process(u(10, 2)); // reuses the released slot
    expect(table.size).toBe(1);
  });

  it('reuses released slots last released first, and never a slot still kept', () => {
    const started: number[] = [];
    const table = new FlowTable({ onFlowStart(slot) { started.push(slot); }, onPacket() {}, onFlowEnd(slot) { table.keep(slot); } },
      { sharedMemory: true, idleTimeoutUs: 1000, initialCapacity: 16 });
    const u = (t: number, sport: number) => pkt({ t, src: '10.0.0.1', dst: '10.0.0.2', sport, dport: 53, proto: IpProto.UDP });
    for (let i = 0; i < 8; i++) table.process(u(i, 100 + i)); // slots 0–7
    table.process(u(5000, 200)); // the 8 flows time out and are kept; the new flow takes slot 8
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const s of [3, 7, 5]) table.release(s);
    for (let i = 0; i < 4; i++) table.process(u(5001 + i, 300 + i));
    // 5, 7, 3 from the stack; then a slot never used, not one of the kept 0, 1, 2, 4, 6
    expect(started.slice(9)).toEqual([5, 7, 3, 9]);
    expect(() => table.release(5)).toThrow(/not kept/);
    table.release(6);
    table.process(u(5010, 400));
    expect(started.at(-1)).toBe(6);
  });
});

describe('FlowTable.flush', () => {
  it('ends the remaining flows in the order they started, whatever their slots (both sort paths)', () => {
    for (const firstSeq of [0, 2 ** 50]) {
      const r = recorder();
      const table = new FlowTable(r.obs, { idleTimeoutUs: 1000 });
      r.table = table;
      // Huge sequence numbers make seq · scale + slot inexact: flush falls back to its comparator.
      table.flowsStarted = firstSeq;
      const udp = (t: number, sport: number): DecodedPacket => pkt({ t, src: '10.0.0.1', dst: '10.0.0.2', sport, dport: 53, proto: IpProto.UDP });
      // Flows 1–4 take slots 0–3; 1 and 2 time out, and 5 and 6 reuse their slots (the later-freed first).
      for (const [t, port] of [[0, 1], [1, 2], [2000, 3], [2001, 4], [2002, 5], [2003, 6]]) table.process(udp(t, port));
      table.flush();
      expect(r.ended.map((e) => e.sport)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(r.ended.map((e) => e.reason)).toEqual([EndReason.IDLE, EndReason.IDLE, ...Array(4).fill(EndReason.END_OF_INPUT)]);
    }
  });
});

/**
 * Agreement of flowsift's Zeek-style `conn_state` / `history` columns (src/features/families/conn-state.ts) with
 * Zeek's own conn.log baselines.
 *
 *   npx tsx scripts/zeek-conn-agreement.ts [--idle S] [--all] [--json] [--exact]
 *
 * --idle S: flow idle timeout in seconds (default 300); --all: include the skipped baselines; --json: the
 * figures and every matched pair as JSON; --exact: also list the baselines in exact agreement.
 *
 * For each (baseline, trace) pair of `peers/zeek/conn_baseline_map.tsv` (shared datasets) whose test script is
 * a plain trace replay (see {@link SKIPPED} for the others and why), runs flowsift's `extractCapture` on the
 * trace, matches connections by 5-tuple (ICMP: address pair; other protocols: address pair and IP protocol; the
 * n-th flow of a key with the n-th conn.log row of that key; logs cut to a few columns without the 5-tuple: by
 * creation order, see {@link matchConns}) and compares conn_state and history. Prints the figures, every
 * disagreement with its explanation ({@link REASONS}), the conn.log rows left unmatched and the skipped baselines.
 * docs/conn-state.md discusses the results.
 *
 * Flow-table options (closest to Zeek's connection semantics): idle timeout 300 s (Zeek's
 * tcp_inactivity_timeout; Zeek's UDP/ICMP 60 s cannot be set per protocol), active timeout off (Zeek has none),
 * TCP termination on with a 5 s linger (Zeek's tcp_close_delay), tunnels decoded (Zeek logs inner connections).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { extractCapture } from '../src/features/extract.js';
import type { MeterOptions } from '../src/features/meter.js';
import { createFeatureSet } from '../src/features/registry.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.FLOWSIFT_SHARED ?? resolve(REPO, '..', 'shared');
/** Zeek's test data (traces, baselines, baseline map). */
export const ZEEK_DIR = join(SHARED, 'datasets', 'peers', 'zeek');
/** Positions of the registry's text columns in `FinishedFlow.text`. */
const TEXT_COLUMNS = createFeatureSet().textColumns.map((c) => c.name);
const STATE_COL = TEXT_COLUMNS.indexOf('conn_state'), HISTORY_COL = TEXT_COLUMNS.indexOf('history');

/** Flow-table options used for the comparison. */
export function zeekLikeOptions(idleSeconds = 300): MeterOptions {
  return {
    idleTimeoutUs: idleSeconds * 1e6,
    activeTimeoutUs: 1e15,
    tcpTermination: true,
    tcpLingerUs: 5e6,
    decodeTunnels: true,
  };
}

/**
 * Baselines whose test script changes Zeek's behaviour in a way flowsift does not reproduce (or that are not a
 * trace replay), with the reason. Read from the scripts in zeek/zeek testing/btest.
 */
export const SKIPPED: Record<string, string> = {
  'core.pcap.dynamic-filter': 'installs pcap filters after the first packets (port 80, then port 53): Zeek sees a subset',
  'core.pcap.read-trace-with-filter': 'reads the trace with the BPF filter "port 50000"',
  'core.print-bpf-filters': 'the logged run uses PacketFilter::restricted_filter="vlan"',
  'scripts.base.frameworks.netcontrol.packetfilter': 'NetControl drop rules install a packet filter once a connection is established',
  'scripts.base.protocols.ftp.gridftp': 'GridFTP data-channel detection (size_threshold redefined to 2 bytes) calls '
    + 'skip_further_processing: Zeek stops updating the connection',
  'scripts.base.protocols.ncp.frame_size_tuning': 'redefines likely_server_ports += { 524/tcp }',
};

const WHY = {
  x: 'the x letter: an application analyzer hit a limit ("analysis partial"); flowsift runs no application analyzers',
  gap: 'the g letter: a content gap found by Zeek\'s TCP reassembler (data acknowledged but never seen); not produced',
  bare: 'Zeek ran in bare mode (-b) without the script that makes the SYN-ACK\'s source port a likely server port, '
    + 'so it kept the SYN-ACK sender as originator; flowsift uses Zeek\'s default likely_server_ports and flips (^h)',
  checksum: 'Zeek ran without -C and the packets have bad checksums (c letters, packets ignored); flowsift ignores '
    + 'checksums by default, as zeek -C (ConnStateFamily({ validateChecksums: true }) reproduces Zeek here)',
  ipChecksum: 'Zeek ran without -C and the responder\'s packets have a zero IPv4 header checksum (offload): Zeek drops '
    + 'them at the IP layer; flowsift ignores checksums by default (validateChecksums reproduces Zeek)',
  attempt: 'Zeek\'s connection-attempt timer (tcp_attempt_delay, 5 s) removes a connection still waiting for a SYN-ACK; '
    + 'in this client-side half-duplex trace the later packets form a second Zeek connection (SH DAF, unmatched), '
    + 'flowsift keeps one flow',
  closeDelay: 'Zeek ends a connection 5 s after a FIN that the peer has not answered with anything, and 5 s after a '
    + 'RST; the later packets of the 5-tuple start new Zeek connections (3 rows per 5-tuple here). flowsift\'s flow '
    + 'table ends TCP flows only after FIN both ways or a RST, so fewer flows, matched in start order to other rows',
  ntp: 'Zeek\'s NTP analyzer flips the roles when the first datagram is a server reply (mode 4): application-level '
    + 'flip, not emulated',
  vntag: 'the only packet\'s TCP header is cut by the capture: Zeek and flowsift both ignore it; Zeek ran in bare '
    + 'mode (-b) without the SSL script, so 443 was not a likely server port and Zeek did not flip (^)',
};

/** Known reasons for disagreements: by baseline, or by `baseline|conn` (conn as printed in the report). */
export const REASONS: Record<string, string> = {
  'core.reporter-limit-reached-weird': WHY.x,
  'core.tunnels.count-default-tunnel-changes': WHY.x,
  'core.tunnels.gtp.different_dl_and_ul': WHY.x,
  'core.tunnels.vxlan': WHY.x,
  'scripts.base.protocols.dns.max-queries': WHY.x,
  'scripts.base.protocols.ftp.ftp-max-command-length': WHY.x,
  'scripts.base.protocols.gnutella.max-header-length': WHY.x,
  'scripts.base.protocols.gnutella.max-line-length': WHY.x,
  'scripts.base.protocols.http.deeply-nested-mime': WHY.x,
  'scripts.base.protocols.login.nvt-option-length': WHY.x,
  'scripts.base.protocols.login.rlogin-line-length': WHY.x,
  'scripts.base.protocols.login.rsh-line-length': WHY.x,
  'scripts.base.protocols.smtp.mime-header-size-limit': WHY.x,
  'scripts.base.protocols.ssh.max-kexinit-algorithms': WHY.x,
  'scripts.base.protocols.dns.max-compression-depth': `${WHY.x}; the ^ after D is the DNS analyzer's own flip`,
  'core.tcp.large-file-reassembly': WHY.gap,
  'core.tcp.miss-end-data': WHY.gap,
  'core.tunnels.gtp.outer_ip_frag': `${WHY.gap} (the outer IP packets are fragmented; flowsift does not reassemble)`,
  'scripts.base.protocols.ftp.cwd-navigation': WHY.gap,
  'scripts.base.frameworks.logging.field-extension': WHY.bare,
  'scripts.base.frameworks.logging.field-extension-complex': WHY.bare,
  'scripts.base.frameworks.logging.field-extension-optional': WHY.bare,
  'scripts.base.frameworks.logging.field-name-map': WHY.bare,
  'scripts.base.frameworks.logging.scope_sep': WHY.bare,
  'scripts.base.frameworks.logging.scope_sep_and_field_name_map': WHY.bare,
  'core.tcp.bad-checksum-syn': WHY.checksum,
  'core.udp-corrupt': WHY.checksum,
  'scripts.base.frameworks.logging.field-name-map2': WHY.ipChecksum,
  'scripts.base.protocols.ssh.half-duplex-client': WHY.attempt,
  'core.tunnels.teredo': WHY.closeDelay,
  'scripts.base.protocols.ntp.misordered-ntp': WHY.ntp,
  'core.vntag-in-vlan': WHY.vntag,
};

/** The known reason for a disagreement, if any. */
export function reasonFor(baseline: string, conn: string): string | undefined {
  return REASONS[`${baseline}|${conn}`] ?? REASONS[baseline];
}

/** One conn.log row (the fields compared). */
export interface ZeekConn {
  /** Zeek's connection uid ('' when not logged); btest's seeded uids come in connection-creation order. */
  uid: string;
  /** False for logs cut to a few columns (btest-diff-cut) that have no 5-tuple. */
  hasTuple: boolean;
  origH: string; origP: number; respH: string; respP: number; proto: string; ipProto: number;
  /** Null when the baseline does not log the column. */
  connState: string | null; history: string | null;
}

/** One flowsift flow (the fields compared). */
export interface SiftConn {
  srcH: string; srcP: number; dstH: string; dstP: number; proto: string; ipProto: number;
  connState: string; history: string; packets: number;
  /** Start order of the flow within the baseline's traces. */
  seq: number;
}

/** A matched pair and whether it agrees (null: the baseline does not log the column). */
export interface Match {
  baseline: string; zeek: ZeekConn; sift: SiftConn; stateOk: boolean | null; historyOk: boolean | null;
}

/** Result of one baseline. */
export interface BaselineResult {
  baseline: string; traces: string[]; zeekRows: number; flows: number; matches: Match[];
  unmatchedZeek: ZeekConn[]; unmatchedSift: SiftConn[];
}

/** Canonical text of an IPv4 or IPv6 address (IPv6 expanded to 8 groups of 4 hex digits). */
export function canonicalAddr(a: string): string {
  if (!a.includes(':')) return a;
  let [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const conv = (parts: string[]) => parts.flatMap((p) => {
    if (p.includes('.')) { // embedded IPv4
      const b = p.split('.').map(Number);
      return [((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)];
    }
    return [p];
  });
  const hh = conv(h), tt = conv(t);
  const fill = tail !== undefined ? new Array<string>(8 - hh.length - tt.length).fill('0') : [];
  return [...hh, ...fill, ...tt].map((g) => g.toLowerCase().padStart(4, '0')).join(':');
}

const PROTO_NAME: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp' };

/** Matching key: unordered endpoints + transport. */
function keyOf(proto: string, ipProto: number, a: string, ap: number, b: string, bp: number): string {
  const x = canonicalAddr(a), y = canonicalAddr(b);
  if (proto === 'tcp' || proto === 'udp') {
    const l = `${x}:${ap}`, r = `${y}:${bp}`;
    return `${proto}|${l < r ? `${l}|${r}` : `${r}|${l}`}`;
  }
  const p = proto === 'icmp' ? 'icmp' : `ip${ipProto}`;
  return `${p}|${x < y ? `${x}|${y}` : `${y}|${x}`}`;
}

/** Alternative names of the 5-tuple fields (tests that rename log fields or change the scope separator). */
const FIELD_ALIASES: Record<string, string[]> = {
  'id.orig_h': ['id_orig_h', 'src', 'src_ip'],
  'id.orig_p': ['id_orig_p', 'src_port'],
  'id.resp_h': ['id_resp_h', 'dst', 'dst_ip'],
  'id.resp_p': ['id_resp_p', 'dst_port'],
};

/**
 * Parses a Zeek conn.log (tab-separated with a #fields header). `connState` / `history` are null when the log
 * does not have the column (tests that log a subset of the fields).
 */
export function parseConnLog(text: string): ZeekConn[] {
  let fields: string[] = [];
  const rows: ZeekConn[] = [];
  const col = (n: string) => {
    for (const name of [n, ...(FIELD_ALIASES[n] ?? [])]) { const i = fields.indexOf(name); if (i >= 0) return i; }
    return -1;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('#fields')) { fields = line.split('\t').slice(1); continue; }
    if (line.startsWith('#') || line.trim() === '') continue;
    if (fields.length === 0) { fields = line.split('\t'); continue; } // btest-diff-cut: a plain header line
    const cells = line.split('\t');
    const get = (n: string): string | null => { const i = col(n); return i >= 0 ? cells[i] ?? '-' : null; };
    const proto = get('proto') ?? '-';
    const ip = get('ip_proto');
    const ipProto = ip === null || ip === '-' ? ({ tcp: 6, udp: 17, icmp: 1 } as Record<string, number>)[proto] ?? 0 : Number(ip);
    const h = get('history');
    rows.push({
      uid: get('uid') ?? '', hasTuple: col('id.orig_h') >= 0 && col('id.resp_p') >= 0,
      origH: get('id.orig_h') ?? '-', origP: Number(get('id.orig_p')), respH: get('id.resp_h') ?? '-', respP: Number(get('id.resp_p')),
      proto, ipProto, connState: get('conn_state'), history: h === null ? null : h === '-' ? '' : h,
    });
  }
  return rows;
}

/** Reads conn_baseline_map.tsv: baseline, test script, trace paths (with $TRACES resolved). */
export function readBaselineMap(): { baseline: string; script: string; traces: string[] }[] {
  const text = readFileSync(join(ZEEK_DIR, 'conn_baseline_map.tsv'), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [baseline, script, traces] = l.split('\t') as [string, string, string];
    const list = (traces ?? '').trim().split(/\s+/).filter((t) => t.startsWith('$TRACES/'))
      .map((t) => join(ZEEK_DIR, 'testing', 'btest', 'Traces', t.slice('$TRACES/'.length)));
    return { baseline, script: script ?? '', traces: list };
  });
}

/** Runs flowsift on a trace (gzip-compressed traces are inflated to a temporary file first). */
export async function siftConns(trace: string, opts: MeterOptions, seqBase = 0): Promise<SiftConn[]> {
  let path = trace, tmp: string | null = null;
  if (trace.endsWith('.gz')) {
    tmp = mkdtempSync(join(tmpdir(), 'flowsift-zeek-'));
    path = join(tmp, 'trace');
    writeFileSync(path, gunzipSync(readFileSync(trace)));
  }
  const out: SiftConn[] = [];
  try {
    await extractCapture(path, (f) => {
      out.push({
        srcH: f.srcIp, srcP: f.srcPort, dstH: f.dstIp, dstP: f.dstPort, proto: PROTO_NAME[f.protocol] ?? 'unknown_transport',
        ipProto: f.protocol, connState: f.text[STATE_COL]!, history: f.text[HISTORY_COL]!, packets: f.packets,
        seq: seqBase + f.seq,
      });
    }, opts);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}


function pair(baseline: string, z: ZeekConn, s: SiftConn): Match {
  return {
    baseline, zeek: z, sift: s,
    stateOk: z.connState === null ? null : s.connState === z.connState,
    historyOk: z.history === null ? null : s.history === z.history,
  };
}

/**
 * Matches conn.log rows with flows: same key (5-tuple), in order. Logs cut to a few columns (no 5-tuple) are
 * matched by creation order instead: rows ordered by the rank of their uid (`uidRank`, learnt from the full
 * logs), flows by start, when both lists have the same length (or one row and one flow).
 */
export function matchConns(
  baseline: string, zeek: ZeekConn[], sift: SiftConn[], uidRank: ReadonlyMap<string, number> = new Map(),
): Omit<BaselineResult, 'traces' | 'zeekRows' | 'flows'> {
  const matches: Match[] = [];
  if (zeek.length > 0 && !zeek[0]!.hasTuple) {
    const ranked = zeek.every((z) => uidRank.has(z.uid));
    if (zeek.length === sift.length && (zeek.length === 1 || ranked)) {
      const zs = [...zeek].sort((a, b) => (uidRank.get(a.uid) ?? 0) - (uidRank.get(b.uid) ?? 0));
      const ss = [...sift].sort((a, b) => a.seq - b.seq);
      zs.forEach((z, i) => matches.push(pair(baseline, z, ss[i]!)));
      return { baseline, matches, unmatchedZeek: [], unmatchedSift: [] };
    }
    return { baseline, matches, unmatchedZeek: zeek, unmatchedSift: sift };
  }
  const byKey = new Map<string, SiftConn[]>();
  for (const s of [...sift].sort((a, b) => a.seq - b.seq)) {
    const k = keyOf(s.proto, s.ipProto, s.srcH, s.srcP, s.dstH, s.dstP);
    let l = byKey.get(k);
    if (!l) byKey.set(k, l = []);
    l.push(s);
  }
  const used = new Set<SiftConn>();
  const unmatchedZeek: ZeekConn[] = [];
  for (const z of zeek) {
    const l = byKey.get(keyOf(z.proto, z.ipProto, z.origH, z.origP, z.respH, z.respP));
    const s = l?.shift();
    if (!s) { unmatchedZeek.push(z); continue; }
    used.add(s);
    matches.push(pair(baseline, z, s));
  }
  return { baseline, matches, unmatchedZeek, unmatchedSift: sift.filter((s) => !used.has(s)) };
}

/** Runs the whole comparison. */
export async function runAgreement(opts: MeterOptions, includeSkipped = false): Promise<BaselineResult[]> {
  const runs: { baseline: string; traces: string[]; zeek: ZeekConn[]; sift: SiftConn[] }[] = [];
  for (const { baseline, traces } of readBaselineMap()) {
    if (traces.length === 0 || (!includeSkipped && SKIPPED[baseline])) continue;
    const log = join(ZEEK_DIR, 'testing', 'btest', 'Baseline', baseline, 'conn.log');
    if (!existsSync(log) || !traces.every(existsSync)) continue;
    const zeek = parseConnLog(readFileSync(log, 'utf8'));
    const sift: SiftConn[] = [];
    for (const t of traces) sift.push(...await siftConns(t, opts, sift.length));
    runs.push({ baseline, traces, zeek, sift });
  }
  // Full logs first; they also teach the creation rank of btest's (seeded, deterministic) uids: in a log whose
  // every row matched a flow one to one, the uid of the flow started k-th is the k-th uid.
  const results = new Map<string, BaselineResult>();
  const uidRank = new Map<string, number>();
  const done = (r: typeof runs[number], m: ReturnType<typeof matchConns>) => results.set(r.baseline, {
    ...m, traces: r.traces.map((t) => t.slice(ZEEK_DIR.length + 1)), zeekRows: r.zeek.length, flows: r.sift.length,
  });
  for (const r of runs.filter((x) => x.zeek.length === 0 || x.zeek[0]!.hasTuple)) {
    const m = matchConns(r.baseline, r.zeek, r.sift);
    done(r, m);
    if (m.unmatchedZeek.length === 0 && m.unmatchedSift.length === 0) {
      const bySeq = [...m.matches].sort((a, b) => a.sift.seq - b.sift.seq);
      bySeq.forEach((x, k) => { if (x.zeek.uid && !uidRank.has(x.zeek.uid)) uidRank.set(x.zeek.uid, k); });
    }
  }
  for (const r of runs.filter((x) => x.zeek.length > 0 && !x.zeek[0]!.hasTuple)) done(r, matchConns(r.baseline, r.zeek, r.sift, uidRank));
  return runs.map((r) => results.get(r.baseline)!);
}

/** How a conn.log row is named in the report and in {@link REASONS}: its 5-tuple, or its uid for cut logs. */
export const connLabel = (z: ZeekConn) => (z.hasTuple ? `${z.origH}:${z.origP}>${z.respH}:${z.respP}/${z.proto}` : `uid ${z.uid}`);
const siftTuple = (s: SiftConn) => `${s.srcH}:${s.srcP}>${s.dstH}:${s.dstP}/${s.proto}`;

/** Agreement figures over a set of results. */
export function summarize(results: BaselineResult[]) {
  const all = results.flatMap((r) => r.matches);
  const withState = all.filter((m) => m.stateOk !== null), withHistory = all.filter((m) => m.historyOk !== null);
  return {
    baselines: results.length,
    zeekRows: results.reduce((a, r) => a + r.zeekRows, 0),
    flows: results.reduce((a, r) => a + r.flows, 0),
    matched: all.length,
    stateCompared: withState.length, stateAgree: withState.filter((m) => m.stateOk).length,
    historyCompared: withHistory.length, historyAgree: withHistory.filter((m) => m.historyOk).length,
    exact: results.filter((r) => r.matches.length > 0 && r.unmatchedZeek.length === 0
      && r.matches.every((m) => m.stateOk !== false && m.historyOk !== false)).map((r) => r.baseline),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const idle = args.includes('--idle') ? Number(args[args.indexOf('--idle') + 1]) : 300;
  const results = await runAgreement(zeekLikeOptions(idle), args.includes('--all'));
  const sum = summarize(results);
  if (args.includes('--json')) {
    console.log(JSON.stringify({ ...sum, results }, null, 1));
    return;
  }
  const pct = (a: number, b: number) => (b ? (100 * a / b).toFixed(1) : '-');
  console.log(`flow options: idle timeout ${idle} s, no active timeout, TCP termination with 5 s linger, tunnels decoded`);
  console.log(`${sum.baselines} baselines (${Object.keys(SKIPPED).length} skipped${args.includes('--all') ? ' but included (--all)' : ''}); `
    + `${sum.zeekRows} conn.log rows; ${sum.flows} flowsift flows; ${sum.matched} matched`);
  console.log(`conn_state agreement: ${sum.stateAgree}/${sum.stateCompared} = ${pct(sum.stateAgree, sum.stateCompared)} %`);
  console.log(`history agreement:    ${sum.historyAgree}/${sum.historyCompared} = ${pct(sum.historyAgree, sum.historyCompared)} %`);
  console.log(`baselines in exact agreement (every row matched, state and history equal): ${sum.exact.length}`);
  console.log('\n## disagreements (conn.log row: zeek state history, flowsift state history — reason)');
  for (const m of results.flatMap((r) => r.matches).filter((x) => x.stateOk === false || x.historyOk === false)) {
    const why = reasonFor(m.baseline, connLabel(m.zeek));
    console.log(`- ${m.baseline} ${m.zeek.hasTuple ? connLabel(m.zeek) : `${connLabel(m.zeek)} (${siftTuple(m.sift)})`}: zeek `
      + `${m.zeek.connState ?? '(not logged)'} ${m.zeek.history || '-'}, flowsift ${m.sift.connState} ${m.sift.history || '-'}`
      + `${why ? ` — ${why}` : ''}`);
  }
  console.log('\n## unmatched conn.log rows');
  for (const r of results) for (const z of r.unmatchedZeek) console.log(`- ${r.baseline} ${connLabel(z)} ${z.connState} ${z.history || '-'}`);
  console.log('\n## skipped baselines');
  for (const [b, why] of Object.entries(SKIPPED)) console.log(`- ${b}: ${why}`);
  if (args.includes('--exact')) console.log(`\n## exact\n${sum.exact.join('\n')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}

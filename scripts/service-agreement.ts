/**
 * Agreement of flowsift's `service` column with nfstream's `application_name` on nfstream's own test corpus
 * (`../shared/datasets/peers/nfstream`: `pcaps/` and `results/<capture>`, one CSV row per flow:
 * `id,bidirectional_packets,bidirectional_bytes,application_name,…`).
 *
 * flowsift runs with nfstream's flow settings (idle 120 s, active 1800 s, no TCP termination). Flows are paired
 * by (packets, frame bytes): within each equal key, greedily in export order. For pairs whose nfstream master
 * protocol (the part of `application_name` before the dot) is one of {@link TARGET}, the script reports
 * whether flowsift's service names the same protocol (SMBv1/SMBv23 count as SMB, FTP_CONTROL as FTP) and lists
 * the disagreements.
 *
 * With `--zeek`, a held-out check instead: Zeek's conn.log baselines (`../shared/datasets/peers/zeek`), each
 * connection whose `service` flowsift has a name for, matched to flowsift's flow by 5-tuple.
 *
 *   npx tsx scripts/service-agreement.ts [--only CAPTURE,…] [--json]
 *   npx tsx scripts/service-agreement.ts --zeek
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { extractCapture } from '../src/features/extract.js';
import { flowFrameBytes } from '../src/features/families/service.js';
import { createFeatureSet } from '../src/features/registry.js';

/** nfstream master protocols compared (normalised names, see {@link normalise}). */
export const TARGET = new Set(['HTTP', 'TLS', 'DNS', 'SSH', 'SMTP', 'FTP', 'QUIC', 'DHCP', 'NTP', 'MDNS', 'LLMNR', 'SSDP', 'SMB', 'RDP']);

/** Folds nDPI's variants into one protocol name: SMBv1/SMBv23 → SMB, FTP_CONTROL → FTP. */
export function normalise(name: string): string {
  if (name === 'SMBv1' || name === 'SMBv23') return 'SMB';
  if (name === 'FTP_CONTROL') return 'FTP';
  return name;
}

/** nfstream's master protocol of an application_name (`TLS.Google` → `TLS`). */
export function master(applicationName: string): string {
  const i = applicationName.indexOf('.');
  return i < 0 ? applicationName : applicationName.slice(0, i);
}

/** One flowsift flow, as far as the comparison needs it. */
export interface OurFlow {
  packets: number;
  bytes: number;
  service: string;
  source: string;
  serverName: string;
  tuple: string;
  firstSeenUs: number;
}

/** One nfstream row. */
export interface PeerFlow {
  id: number; packets: number; bytes: number; application: string;
  /** nfstream's application_is_guessed: 1 when nDPI fell back to ports/addresses. */
  guessed: boolean;
}

/** A paired flow; `agree` compares normalised protocol names. */
export interface Pair { capture: string; peer: PeerFlow; ours: OurFlow; agree: boolean }

/** Result for one capture. */
export interface CaptureAgreement {
  capture: string;
  /** nfstream rows / flowsift flows. */
  peerFlows: number;
  ourFlows: number;
  /** nfstream rows paired with a flowsift flow. */
  paired: number;
  /** nfstream rows with a TARGET master and no flowsift flow of the same (packets, bytes). */
  unpairedTarget: PeerFlow[];
  /** Pairs whose nfstream master is in TARGET (the agreement figure). */
  pairs: Pair[];
  /** Pairs whose nfstream master is not in TARGET but flowsift's service is (the reverse view). */
  extra: Pair[];
  /** All pairs: how many name the same master protocol (nfstream `Unknown` = flowsift empty). */
  sameName: number;
}

/** nfstream corpus folder. */
export function nfstreamDir(shared = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared')): string {
  return join(process.env.FLOWSIFT_SHARED ?? shared, 'datasets', 'peers', 'nfstream');
}

/** Runs flowsift on `pcap` with nfstream's flow settings. */
export async function ourFlows(pcap: string): Promise<OurFlow[]> {
  const out: OurFlow[] = [];
  const iSvc = SERVICE_COLUMN;
  await extractCapture(pcap, (f) => {
    out.push({
      packets: f.packets,
      bytes: flowFrameBytes(f),
      service: f.text[iSvc],
      source: f.text[iSvc + 1],
      serverName: f.text[iSvc + 2],
      tuple: `${f.protocol} ${f.srcIp}:${f.srcPort} > ${f.dstIp}:${f.dstPort}`,
      firstSeenUs: f.firstSeenUs,
    });
  }, { idleTimeoutUs: 120e6, activeTimeoutUs: 1800e6, tcpTermination: false });
  return out;
}

/** Index of the `service` text column (then `service_source`, `server_name`) in a flow's text columns. */
const SERVICE_COLUMN = createFeatureSet().textColumns.findIndex((c) => c.name === 'service');
if (SERVICE_COLUMN < 0) throw new Error('no service column in the registry');

/** Reads nfstream's result rows. */
export function peerFlows(resultsCsv: string): PeerFlow[] {
  const rows = parse(readFileSync(resultsCsv, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({
    id: Number(r.id), packets: Number(r.bidirectional_packets), bytes: Number(r.bidirectional_bytes),
    application: r.application_name, guessed: r.application_is_guessed === '1',
  }));
}

/** Pairs nfstream rows with flowsift flows by equal (packets, bytes), greedily in order, and compares. */
export function compare(capture: string, peers: PeerFlow[], ours: OurFlow[]): CaptureAgreement {
  const pool = new Map<string, OurFlow[]>();
  for (const f of ours) {
    const k = `${f.packets}/${f.bytes}`;
    const l = pool.get(k);
    if (l) l.push(f); else pool.set(k, [f]);
  }
  const res: CaptureAgreement = {
    capture, peerFlows: peers.length, ourFlows: ours.length, paired: 0, unpairedTarget: [], pairs: [], extra: [], sameName: 0,
  };
  for (const p of peers) {
    const l = pool.get(`${p.packets}/${p.bytes}`);
    const m = normalise(master(p.application));
    if (!l || l.length === 0) {
      if (TARGET.has(m)) res.unpairedTarget.push(p);
      continue;
    }
    const ourFlow = l.shift()!;
    res.paired++;
    const pair = { capture, peer: p, ours: ourFlow, agree: normalise(ourFlow.service) === m };
    if (normalise(ourFlow.service || 'Unknown') === m) res.sameName++;
    if (TARGET.has(m)) res.pairs.push(pair);
    else if (TARGET.has(normalise(ourFlow.service))) res.extra.push(pair);
  }
  return res;
}

/** Compares one capture of the corpus (file name under pcaps/). */
export async function captureAgreement(name: string, dir = nfstreamDir()): Promise<CaptureAgreement> {
  const peers = peerFlows(join(dir, 'results', name));
  const ours = await ourFlows(join(dir, 'pcaps', name));
  return compare(name, peers, ours);
}

/** Zeek `service` values → flowsift names that agree with them. */
const ZEEK_SERVICES: Record<string, string[]> = {
  http: ['HTTP', 'HTTP_Proxy'], ssl: ['TLS', 'IMAPS', 'SMTPS', 'POPS'], dns: ['DNS', 'MDNS', 'LLMNR', 'DNScrypt', 'NetBIOS'],
  ssh: ['SSH'], smtp: ['SMTP'], ftp: ['FTP_CONTROL'], quic: ['QUIC'], dhcp: ['DHCP'], ntp: ['NTP'], krb: ['Kerberos'],
  krb_tcp: ['Kerberos'], smb: ['SMBv1', 'SMBv23'], rdp: ['RDP'], rdpeudp: ['RDP'], sip: ['SIP'], snmp: ['SNMP'],
  mysql: ['MySQL'], pop3: ['POP3'], imap: ['IMAP'], ldap: ['LDAP'], ldap_tcp: ['LDAP'], dtls: ['DTLS'], syslog: ['Syslog'],
  postgresql: ['PostgreSQL'], redis: ['Redis'],
};

/** The `--zeek` check: agreement with Zeek's conn.log `service` on Zeek's test traces. */
async function zeekCheck(): Promise<void> {
  const z = join(nfstreamDir(), '..', 'zeek');
  const map = readFileSync(join(z, 'conn_baseline_map.tsv'), 'utf8').trim().split('\n');
  const traces = new Map<string, Map<string, [string, string][]>>();
  let total = 0, agree = 0, byPayload = 0, noFlow = 0;
  const misses: string[] = [];
  const key = (proto: number, a: string, b: string): string => `${proto}|${a < b ? `${a}|${b}` : `${b}|${a}`}`;
  for (const line of map) {
    const [name, , traceField] = line.split('\t');
    if (!traceField) continue;
    const trace = traceField.trim().replace('$TRACES', join(z, 'testing', 'btest', 'Traces'));
    const log = join(z, 'testing', 'btest', 'Baseline', name, 'conn.log');
    if (!existsSync(log) || !existsSync(trace)) continue;
    let flows = traces.get(trace);
    if (!flows) {
      const m = new Map<string, [string, string][]>();
      try {
        await extractCapture(trace, (f) => {
          const k = key(f.protocol, `${f.srcIp}|${f.srcPort}`, `${f.dstIp}|${f.dstPort}`);
          const l = m.get(k) ?? [];
          l.push([f.text[SERVICE_COLUMN], f.text[SERVICE_COLUMN + 1]]);
          m.set(k, l);
        });
      } catch {
        continue;
      }
      traces.set(trace, m);
      flows = m;
    }
    const rows = readFileSync(log, 'utf8').split('\n');
    const header = rows.find((r) => r.startsWith('#fields'));
    if (!header) continue;
    const fields = header.split('\t').slice(1), ix = (n: string): number => fields.indexOf(n);
    for (const r of rows) {
      if (r.startsWith('#') || r.trim() === '') continue;
      const c = r.split('\t');
      const zs = c[ix('service')].split(',').map((v) => v.replace(/^-/, '')).filter((v) => ZEEK_SERVICES[v]);
      const proto = c[ix('proto')] === 'tcp' ? 6 : c[ix('proto')] === 'udp' ? 17 : 0;
      if (zs.length === 0 || proto === 0) continue;
      const ours = flows.get(key(proto, `${c[ix('id.orig_h')]}|${c[ix('id.orig_p')]}`, `${c[ix('id.resp_h')]}|${c[ix('id.resp_p')]}`));
      if (!ours) { noFlow++; continue; }
      total++;
      const match = ours.filter(([svc]) => zs.some((v) => ZEEK_SERVICES[v].includes(svc)));
      if (match.length > 0) agree++; else misses.push(`${name}: zeek ${c[ix('service')]} ${c[ix('id.orig_h')]}:${c[ix('id.orig_p')]} > ${c[ix('id.resp_h')]}:${c[ix('id.resp_p')]} flowsift ${ours.map((o) => o.join('/')).join(' ')}`);
      if (match.some(([, src]) => src === 'payload')) byPayload++;
    }
  }
  console.log(`zeek: ${total} connections with a service flowsift names; agree ${agree} (${(100 * agree / Math.max(1, total)).toFixed(2)} %), ${byPayload} of them by payload; no flowsift flow with that 5-tuple: ${noFlow}`);
  for (const m of misses) console.log(`  ${m}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--zeek')) return zeekCheck();
  const json = args.includes('--json');
  const oi = args.indexOf('--only');
  const dir = nfstreamDir();
  if (!existsSync(join(dir, 'pcaps'))) {
    process.stderr.write(`service-agreement: ${dir}/pcaps not found\n`);
    process.exit(2);
  }
  const names = oi >= 0 ? args[oi + 1].split(',') : readdirSync(join(dir, 'pcaps')).filter((f) => existsSync(join(dir, 'results', f))).sort();
  const all: CaptureAgreement[] = [];
  for (const name of names) {
    try {
      all.push(await captureAgreement(name, dir));
    } catch (e) {
      process.stderr.write(`service-agreement: ${name}: ${(e as Error).message}\n`);
    }
  }
  const pairs = all.flatMap((a) => a.pairs);
  const agree = pairs.filter((p) => p.agree).length;
  const peerTotal = all.reduce((s, a) => s + a.peerFlows, 0), paired = all.reduce((s, a) => s + a.paired, 0);
  const unpaired = all.flatMap((a) => a.unpairedTarget.map((p) => ({ capture: a.capture, ...p })));
  const extra = all.flatMap((a) => a.extra);
  const sameName = all.reduce((s, a) => s + a.sameName, 0);
  if (json) {
    process.stdout.write(`${JSON.stringify({
      captures: all.length, peerFlows: peerTotal, paired, unpairedTarget: unpaired, compared: pairs.length, agree,
      disagreements: pairs.filter((p) => !p.agree), extra,
    })}\n`);
    return;
  }
  const pct = (a: number, b: number): string => `${(100 * a / Math.max(1, b)).toFixed(2)} %`;
  console.log(`captures: ${all.length}; nfstream flows: ${peerTotal}, paired by (packets, bytes): ${paired} (${pct(paired, peerTotal)})`);
  console.log(`compared (nfstream master in ${[...TARGET].join(' ')}): ${pairs.length}; agree: ${agree} = ${pct(agree, pairs.length)}`);
  const cross = (src: string, guessed: boolean): number => pairs.filter((p) => p.agree && p.ours.source === src && p.peer.guessed === guessed).length;
  console.log(`  agreeing pairs by how each side decided: flowsift payload & nfstream DPI ${cross('payload', false)}, `
    + `flowsift payload & nfstream guess ${cross('payload', true)}, flowsift port & nfstream DPI ${cross('port', false)}, `
    + `flowsift port & nfstream guess ${cross('port', true)}`);
  console.log(`all paired flows, any protocol: same master name ${sameName}/${paired} (${pct(sameName, paired)}; nfstream Unknown = flowsift empty)`);
  console.log(`target-protocol nfstream flows without a pair: ${unpaired.length}`);
  for (const u of unpaired) console.log(`    ${u.capture} #${u.id} ${u.application} pkts=${u.packets} bytes=${u.bytes}`);
  const byProto = new Map<string, [number, number]>();
  for (const p of pairs) {
    const m = normalise(master(p.peer.application));
    const v = byProto.get(m) ?? [0, 0];
    v[0] += p.agree ? 1 : 0;
    v[1]++;
    byProto.set(m, v);
  }
  console.log('\nper nfstream protocol: agree/compared');
  for (const [m, [a, n]] of [...byProto].sort((x, y) => y[1][1] - x[1][1])) console.log(`  ${m.padEnd(6)} ${a}/${n} (${pct(a, n)})`);
  const groups = new Map<string, Pair[]>();
  for (const p of pairs) {
    if (p.agree) continue;
    const k = `${master(p.peer.application)} → ${p.ours.service || '""'}`;
    const l = groups.get(k);
    if (l) l.push(p); else groups.set(k, [p]);
  }
  console.log('\ndisagreements (nfstream master → flowsift service), grouped:');
  printGroups(groups);
  const rev = new Map<string, Pair[]>();
  for (const p of extra) {
    const k = `${master(p.peer.application)} → ${p.ours.service}`;
    const l = rev.get(k);
    if (l) l.push(p); else rev.set(k, [p]);
  }
  console.log(`\nreverse view: flowsift names a compared protocol where nfstream's master is another one: ${extra.length}`);
  printGroups(rev);
}

function printGroups(groups: Map<string, Pair[]>): void {
  for (const [k, l] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`  ${k}: ${l.length}`);
    for (const p of l) {
      console.log(`    ${p.capture} #${p.peer.id} ${p.peer.application} | ${p.ours.tuple} pkts=${p.peer.packets} bytes=${p.peer.bytes} source=${p.ours.source || '-'}${p.ours.serverName ? ` name=${p.ours.serverName}` : ''}`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`service-agreement: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

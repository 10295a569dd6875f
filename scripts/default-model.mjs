#!/usr/bin/env node
/**
 * The shipped default model's recipe and its measurements (issue 7).
 *
 *   node scripts/default-model.mjs train      (npm run train-default)    writes models/default
 *   node scripts/default-model.mjs evaluate   (npm run evaluate-default) prints the figures of the README
 *
 * Training data, all under ../shared/datasets (or FLOWSIFT_SHARED/datasets):
 * - lab/train/capture.pcap with lab/train/labels.csv (BENIGN, BruteForce, DoS, PortScan, WebAttack);
 * - half A of nfstream's test corpus (peers/nfstream/pcaps) as BENIGN background. The split rule is the one of
 *   scripts/feature-study.py (docs/feature-study.md), fixed before any figure was measured: the captures named as
 *   attacks or malware are left out; the others are grouped by the leading run of letters (or digits) of the
 *   lowercased file name, and a group goes to half A when the first byte of SHA-256(group) is even, else to half B.
 *
 * Evaluation (never used for training or for choosing anything):
 * - lab/test with its labels: the classification report (macro-F1);
 * - benign captures from other networks: nfstream half B, the CIC-IDS2017 Monday excerpt, Chris Sanders' normal
 *   protocol captures, USTC-TFC2016 Facetime: false-positive rate (flows flagged / flows);
 * - attack captures from other sources, labelled by attacker address: detection rate (flows flagged / attack flows).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(process.env.FLOWSIFT_SHARED ?? resolve(REPO, '..', 'shared'), 'datasets');
const MODEL = process.env.FLOWSIFT_DEFAULT_MODEL ?? join(REPO, 'models', 'default');
const CLI = join(REPO, 'bin', 'flowsift.js');

/** Training settings of the default model (see models/README.md). */
export const RECIPE = process.env.FLOWSIFT_RECIPE ? process.env.FLOWSIFT_RECIPE.split(' ') : ['--algo', 'forest', '--trees', '100', '--class-weight', 'balanced', '--target-fpr', '0.0075', '--seed', '0'];

/** nfstream captures that are attacks or malware, not ordinary traffic (scripts/feature-study.py NFSTREAM_NOT_BENIGN). */
const NFSTREAM_NOT_BENIGN = new Set(['WebattackSQLinj.pcap', 'synscan.pcap', 'dos_win98_smb_netbeui.pcap', 'malware.pcap',
  'trickbot.pcap', 'dns-tunnel-iodine.pcap', 'dns_exfiltration.pcap']);
/** Chris Sanders captures that are attacks or hijacks (scripts/feature-study.py CHRIS_NOT_BENIGN). */
const CHRIS_NOT_BENIGN = new Set(['arppoison.pcapng', 'aurora.pcapng', 'cryptowall4_c2.pcapng', 'ek_to_cryptowall4.pcapng',
  'ratinfected.pcapng', 'sessionhijacking.pcapng', 'synscan.pcapng', 'activeosfingerprinting.pcapng', 'http_dvwa_sqlinjection.pcapng',
  'http_dvwa_sqlinjection_passwords.pcapng', 'http_dvwa_directorytraversal.pcapng', 'dns_isp_hijack.pcapng']);
/**
 * Attack captures from other sources: [name, capture, label, attacker address]; the "final" set of
 * docs/feature-study.md (Chris Sanders' synscan is nfstream's synscan.pcap, used there to choose, so not here).
 */
const ATTACKS = [
  ['slips SSH brute force (nmap ssh-brute)', 'attacks/slips/dataset/test19-malicious-ssh/malicious-ssh-bruteforce.pcap', 'BruteForce', '147.32.80.40'],
  ['slips ICMP sweep', 'attacks/slips/dataset/test12-icmp-portscan.pcap', 'PortScan', '192.168.1.109'],
  ['DVWA SQL injection', 'attacks/chrissanders/http_dvwa_sqlinjection.pcapng', 'WebAttack', '10.2.2.101'],
  ['DVWA SQL injection (passwords)', 'attacks/chrissanders/http_dvwa_sqlinjection_passwords.pcapng', 'WebAttack', '10.2.2.101'],
  ['DVWA directory traversal', 'attacks/chrissanders/http_dvwa_directorytraversal.pcapng', 'WebAttack', '10.2.2.101'],
  ['nmap OS fingerprinting', 'attacks/chrissanders/activeosfingerprinting.pcapng', 'PortScan', '172.16.16.128'],
];

/** Split group of an nfstream capture: the leading letters (or digits) of the lowercased file name. */
function groupKey(name) {
  return /[a-z]+|[0-9]+/.exec(name.toLowerCase())[0];
}

/** 'A' (training background) or 'B' (held out) for an nfstream capture. */
export function halfOf(name) {
  return createHash('sha256').update(groupKey(name), 'utf8').digest()[0] % 2 === 0 ? 'A' : 'B';
}

/** The benign nfstream captures of one half, sorted by name. */
function nfstreamHalf(half) {
  const dir = join(DATA, 'peers', 'nfstream', 'pcaps');
  return readdirSync(dir).filter((n) => /\.(pcap|pcapng|cap)$/i.test(n) && !NFSTREAM_NOT_BENIGN.has(n) && halfOf(n) === half)
    .sort().map((n) => join(dir, n));
}

/** Runs the CLI, echoing the command; returns stdout (or shows it, with `show`). Exits on failure. */
function flowsift(args, { show = false } = {}) {
  process.stderr.write(`$ flowsift ${args.map((a) => a.replaceAll(DATA, '$DATA').replaceAll(REPO + '/', '')).join(' ')}\n`);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', show ? 'inherit' : 'pipe', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write(`default-model: flowsift exited with ${r.status}\n`);
    process.exit(1);
  }
  return r.stdout;
}

function need(path) {
  if (!existsSync(path)) {
    process.stderr.write(`default-model: ${path} not found (the recipe needs ../shared/datasets)\n`);
    process.exit(1);
  }
  return path;
}

function train() {
  const lab = join(DATA, 'lab', 'train');
  const inputs = [`${need(join(lab, 'capture.pcap'))}:${join(lab, 'labels.csv')}`, ...nfstreamHalf('A').map((p) => `${p}:BENIGN`)];
  flowsift(['train', ...inputs.flatMap((i) => ['--input', i]), '--model', MODEL, ...RECIPE, '-q'], { show: true });
}

/** Evaluates `inputs` (--input specs) and returns evaluate's JSON. */
function evaluate(inputs) {
  return JSON.parse(flowsift(['evaluate', ...inputs.flatMap((i) => ['--input', i]), '--model', MODEL, '--json', '-q']));
}

function evaluateAll() {
  need(join(MODEL, 'model.json'));
  const rows = [];
  const lab = join(DATA, 'lab', 'test');
  const t = evaluate([`${need(join(lab, 'capture.pcap'))}:${join(lab, 'labels.csv')}`]);
  const f1 = Object.entries(t.classes).map(([c, v]) => `${c} ${v.f1.toFixed(4)}`).join(', ');
  rows.push(['lab/test (labelled)', `macro-F1 ${t.macro_f1.toFixed(4)}, accuracy ${t.accuracy.toFixed(4)}; ${f1}; UNKNOWN ${t.unknown ?? 0}`]);
  const benign = [
    ['nfstream half B (ordinary traffic, held out)', nfstreamHalf('B')],
    ['CIC-IDS2017 Monday excerpt', [join(DATA, 'cic-ids2017-sample', 'monday-excerpt.pcap')]],
    ['Chris Sanders normal protocol captures', readdirSync(join(DATA, 'attacks', 'chrissanders')).filter((n) => /\.(pcap|pcapng)$/.test(n) && !CHRIS_NOT_BENIGN.has(n)).sort().map((n) => join(DATA, 'attacks', 'chrissanders', n))],
    ['USTC-TFC2016 Facetime', [join(DATA, 'attacks', 'ustc-tfc2016', 'Facetime.pcap')]],
  ];
  for (const [name, files] of benign) {
    const r = evaluate(files.map((f) => `${f}:BENIGN`)).rates;
    rows.push([name, `FPR ${r.false_positives.toLocaleString('en-US')}/${r.benign_flows.toLocaleString('en-US')} = ${r.fpr.toFixed(4)}${Object.keys(r.fired).length ? ` (fired: ${Object.entries(r.fired).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}`]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'flowsift-default-'));
  for (const [name, capture, label, ip] of ATTACKS) {
    const rules = join(dir, `${label}-${ip}.csv`);
    writeFileSync(rules, `label,ip,start,end\n${label},${ip},0,99999999999\n`);
    const r = evaluate([`${need(join(DATA, capture))}:${rules}`]).rates;
    const c = r.per_class[label];
    rows.push([`${name} (${label})`, `detected ${r.detected}/${r.attack_flows} = ${(r.detection_rate ?? 0).toFixed(4)}${c ? `, as ${label}: recall ${c.recall.toFixed(4)}` : ''}; benign flows in the capture flagged ${r.false_positives}/${r.benign_flows}`]);
  }
  console.log(`| data (model ${MODEL.replace(REPO + '/', '')}) | measured |\n|---|---|`);
  for (const [a, b] of rows) console.log(`| ${a} | ${b} |`);
}

const cmd = process.argv[2];
if (cmd === 'train') train();
else if (cmd === 'evaluate') evaluateAll();
else {
  process.stderr.write('usage: node scripts/default-model.mjs train|evaluate\n');
  process.exit(2);
}

#!/usr/bin/env node
/**
 * `npm run bench`: end-to-end throughput of flowsift next to the established flow meters, on the benchmark
 * capture of ../shared/bench/gen_big.py (5,001,020 packets, 1,000,000 flows, 486 MB; built once and cached in
 * .bench-cache/, git-ignored), plus tree training time against scikit-learn and scoring throughput.
 *
 * Every tool runs as a whole process (pcap in → flow table out), timed with /usr/bin/time (wall seconds,
 * peak RSS); each is run --runs times and the median is reported. Peers missing on the machine are skipped
 * with a note (Debian packages: argus-server argus-client nfdump tshark python3-sklearn python3-numpy).
 *
 * Options: --runs N (3), --only a,b (flowsift,argus,nfpcapd,tshark,train,score), --flows N (1000000: the
 * generator's flow count; other sizes get their own cache file).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.FLOWSIFT_SHARED ?? resolve(REPO, '..', 'shared');
const CACHE = join(REPO, '.bench-cache');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', '3'));
const FLOWS = Number(opt('flows', '1000000'));
const ONLY = opt('only', 'flowsift,argus,nfpcapd,tshark,train,score').split(',');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

mkdirSync(CACHE, { recursive: true });
const capture = join(CACHE, FLOWS === 1000000 ? 'big.pcap' : `big-${FLOWS}.pcap`);
if (!existsSync(capture)) {
  const gen = join(SHARED, 'bench', 'gen_big.py');
  if (!existsSync(gen)) die(`${gen} not found (the benchmark generator lives in ../shared/bench)`);
  process.stderr.write(`building ${capture} with gen_big.py (about 30 s)…\n`);
  const r = spawnSync('/usr/bin/python3', [gen, `${capture}.tmp`, String(FLOWS)], { stdio: 'inherit' });
  if (r.status !== 0) die('gen_big.py failed (it needs Debian python3-numpy)');
  execFileSync('mv', [`${capture}.tmp`, capture]);
}
const size = statSync(capture).size;
const packets = Number(/Number of packets\s*=\s*(\d+)/.exec(spawnSync('capinfos', ['-M', '-c', capture], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 5001020);

/** Runs a shell pipeline under /usr/bin/time for each step; returns {wall, rssKiB}. */
function timed(steps) {
  let wall = 0, rss = 0;
  for (const step of steps) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'sh', '-c', step], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`failed: ${step}\n${r.stderr.slice(-2000)}`);
    const [e, m] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    wall += e;
    rss = Math.max(rss, m);
  }
  return { wall, rss };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = join(CACHE, 'out');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const flowsift = `node ${join(REPO, 'bin', 'flowsift.js')}`;

/** Tools: name → shell steps (pcap → flow table on disk, CSV where the tool can write it). */
const tools = {
  flowsift: { steps: [`${flowsift} extract ${capture} -o ${out}/flowsift.csv -q`], note: 'CSV, 152 columns' },
  argus: has('argus') && has('ra') ? {
    steps: [`argus -r ${capture} -w ${out}/a.argus`, `ra -r ${out}/a.argus -c , -s stime saddr sport daddr dport proto pkts bytes dur > ${out}/argus.csv`],
    note: 'argus + ra CSV, 9 columns',
  } : null,
  nfpcapd: has('nfpcapd') && has('nfdump') ? {
    steps: [`mkdir -p ${out}/nf && nfpcapd -r ${capture} -w ${out}/nf`, `nfdump -R ${out}/nf -o csv > ${out}/nfdump.csv`],
    note: 'nfpcapd + nfdump CSV (unidirectional flows)',
  } : null,
  tshark: has('tshark') ? {
    steps: [`tshark -r ${capture} -q -z conv,tcp -z conv,udp > ${out}/tshark.txt 2>/dev/null`],
    note: 'tshark conversations table',
  } : null,
};

const rows = [];
for (const [name, t] of Object.entries(tools)) {
  if (!ONLY.includes(name)) continue;
  if (!t) { rows.push({ name, skipped: 'not installed' }); continue; }
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(join(out, 'nf'), { recursive: true, force: true });
    runs.push(timed(t.steps));
    process.stderr.write(`${name} run ${i + 1}/${RUNS}: ${runs.at(-1).wall.toFixed(2)} s, ${(runs.at(-1).rss / 1024).toFixed(0)} MiB\n`);
  }
  const wall = median(runs.map((r) => r.wall));
  rows.push({ name, wall, rss: Math.max(...runs.map((r) => r.rss)), pps: packets / wall, mbps: size / 1e6 / wall, note: t.note });
}

console.log(`benchmark capture: ${capture} (${packets.toLocaleString('en-US')} packets, ${(size / 1e6).toFixed(0)} MB), median of ${RUNS} runs, ${new Date().toISOString()}`);
console.log('');
const fs = rows.find((r) => r.name === 'flowsift' && r.wall);
console.log(`${'tool'.padEnd(10)} ${'wall s'.padStart(8)} ${'Mpps'.padStart(7)} ${'MB/s'.padStart(7)} ${'peak RSS'.padStart(10)} ${'flowsift ×'.padStart(11)}  output`);
for (const r of rows) {
  if (r.skipped) { console.log(`${r.name.padEnd(10)} skipped: ${r.skipped}`); continue; }
  const ratio = fs ? (r.wall / fs.wall).toFixed(2) : '';
  console.log(`${r.name.padEnd(10)} ${r.wall.toFixed(2).padStart(8)} ${(r.pps / 1e6).toFixed(3).padStart(7)} ${r.mbps.toFixed(1).padStart(7)} ${`${(r.rss / 1024).toFixed(0)} MiB`.padStart(10)} ${ratio.padStart(11)}  ${r.note}`);
}

// ---- tree training: flowsift vs scikit-learn on the same lab/train features ---------------------------
if (ONLY.includes('train')) {
  const lab = join(SHARED, 'datasets', 'lab', 'train');
  if (!existsSync(join(lab, 'capture.pcap'))) console.log('\ntrain: skipped (../shared/datasets/lab not found)');
  else {
    const csv = join(out, 'lab-train.csv');
    execFileSync('sh', ['-c', `${flowsift} extract ${lab}/capture.pcap --labels ${lab}/labels.csv -o ${csv} -q`]);
    const ours = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync('sh', ['-c', `${flowsift} train ${lab}/capture.pcap --labels ${lab}/labels.csv --model ${out}/m -q`], { encoding: 'utf8' });
      const m = /scale \+ fit ([\d.]+) s/.exec(r.stdout);
      if (m) ours.push(Number(m[1]));
    }
    // scikit-learn on the numeric feature columns of the same CSV (identifiers and text dropped).
    const header = readFileSync(csv, 'utf8').slice(0, 20000).split('\n')[0].split(',');
    const model = JSON.parse(readFileSync(join(out, 'm', 'model.json'), 'utf8'));
    const cols = model.featureNames.map((n) => header.indexOf(n) + 1);
    cols.push(header.indexOf('Label') + 1);
    execFileSync('sh', ['-c', `cut -d, -f${cols.join(',')} ${csv} > ${out}/lab-train-num.csv`]);
    const sk = spawnSync('/usr/bin/python3', [join(REPO, 'scripts', 'sklearn_tree.py'), '--train', `${out}/lab-train-num.csv`, '--label', 'Label', '--repeat', String(RUNS)], { encoding: 'utf8' });
    const skFit = sk.status === 0 ? JSON.parse(sk.stdout).fit_seconds : NaN;
    console.log(`\ntree fit on lab/train (${model.training.flows} flows × ${model.featureNames.length} features): flowsift ${median(ours).toFixed(3)} s (scale + fit), scikit-learn ${Number.isNaN(skFit) ? 'n/a' : `${skFit.toFixed(3)} s`} → ratio ${(median(ours) / skFit).toFixed(2)}`);
  }
}

// ---- scoring throughput on the benchmark capture ------------------------------------------------------
if (ONLY.includes('score')) {
  const m = join(REPO, 'models', 'lab-tree');
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(timed([`${flowsift} score ${capture} --model ${m} -o ${out}/scored.csv -q 2>/dev/null`]));
  const wall = median(runs.map((r) => r.wall));
  console.log(`score (${m}): ${wall.toFixed(2)} s, ${(packets / wall / 1e6).toFixed(3)} Mpps, ${(FLOWS / wall / 1e3).toFixed(0)} k flows/s, peak RSS ${(Math.max(...runs.map((r) => r.rss)) / 1024).toFixed(0)} MiB`);
}
writeFileSync(join(CACHE, 'last-bench.txt'), `${JSON.stringify(rows)}\n`);

#!/usr/bin/env node
/**
 * `npm run bench`: end-to-end throughput of flowsift next to the established flow meters, on the benchmark
 * capture of ../shared/bench/gen_big.py (5,001,020 packets, 1,000,000 flows, 486 MB; built once and cached in
 * .bench-cache/, git-ignored), plus tree training time against scikit-learn (on the lab/train features,
 * and against rows on synthetic 10k/100k/1M-row data: `curve`) and scoring throughput.
 *
 * Every tool runs as a whole process (pcap in → flow table out), timed with /usr/bin/time (wall seconds,
 * peak RSS); each is run --runs times, the tools interleaved run by run (so that a drift of the VM's speed lands on
 * all of them), after --warmup untimed rounds of the same kind, and the median is reported, with flowsift's ratio to
 * each peer as the median of the run-by-run ratios. Peers missing on the machine are skipped
 * with a note (Debian packages: argus-server argus-client nfdump tshark python3-sklearn python3-numpy).
 *
 * Options: --runs N (5), --warmup N (1), --only a,b (flowsift,flowsift-1t,flowsift-4files,argus,nfpcapd,tshark,train,curve,score), --flows N (1000000: the
 * generator's flow count; other sizes get their own cache file).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
const RUNS = Number(opt('runs', '5'));
const WARMUP = Number(opt('warmup', '1'));
const FLOWS = Number(opt('flows', '1000000'));
const ONLY = opt('only', 'flowsift,flowsift-1t,flowsift-4files,argus,nfpcapd,tshark,train,curve,score').split(',');
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
// Run as users run it (an executable, as `flowsift` or `npx flowsift` do): its first lines set glibc's huge-page tunable,
// which `node bin/flowsift.js` would skip (see bin/flowsift.js).
const flowsift = join(REPO, 'bin', 'flowsift.js');

/** Tools: name → shell steps (pcap → flow table on disk, CSV where the tool can write it). */
const columns = spawnSync('sh', ['-c', `${flowsift} extract ${join(REPO, 'datasets', 'lab-excerpt', 'capture.pcap')} -q | head -1`], { encoding: 'utf8' }).stdout.split(',').length;
/** The benchmark capture cut into 4 consecutive files (editcap), for the several-captures case. */
const parts = [0, 1, 2, 3].map((k) => join(CACHE, `big-part${k}.pcap`));
if (ONLY.includes('flowsift-4files') && !parts.every(existsSync) && has('editcap')) {
  const per = Math.ceil(packets / 4);
  execFileSync('editcap', ['-c', String(per), capture, join(CACHE, 'big-part.pcap')]);
  const made = readdirSync(CACHE).filter((f) => /^big-part_\d+_/.test(f)).sort();
  made.forEach((f, k) => renameSync(join(CACHE, f), parts[k]));
}
const tools = {
  flowsift: { steps: [`${flowsift} extract ${capture} -o ${out}/flowsift.csv -q`], note: `CSV, ${columns} columns; meter + formatting thread (default)` },
  'flowsift-1t': { steps: [`${flowsift} extract ${capture} -o ${out}/flowsift.csv -q --threads 0`], note: `CSV, ${columns} columns; one thread (--threads 0)` },
  'flowsift-4files': parts.every(existsSync) ? { steps: [`${flowsift} extract ${parts.join(' ')} -o ${out}/flowsift.csv -q`], note: 'the same packets as 4 captures, one worker per core (flows split at file ends)' } : null,
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

// Runs are interleaved, tool after tool (run 1 of every tool, then run 2 …): the VM's speed drifts by ±20 % within
// minutes, and running all of one tool's runs before the next tool's let such a drift land on one tool only (seen
// with argus + ra at 10.2–11.9 s within one bench). "flowsift ×" is the median of the run-by-run ratios.
const active = Object.entries(tools).filter(([name]) => ONLY.includes(name));
const runsOf = new Map(active.filter(([, t]) => t).map(([name]) => [name, []]));
// Warm-up rounds (untimed, like hyperfine's --warmup): this VM gives freed memory back to its host (virtio-balloon
// free page reporting), and memory a process then touches first is backed again by the host at ~0.4 GB/s instead of
// ~15 GB/s. A 200 MB first touch took 445–515 ms after 15 s idle and 11–105 ms right after another process had
// freed memory (3 alternations each). The first run of a bench follows idle time: flowsift's first run was the slowest
// of three in each of the two benches of 23 November without a warm-up (3.91 s and 4.15 s against 3.15–3.67 s), and
// with one it was still the slowest of five, by less (3.87 s against 3.61–3.71 s), so this explains part of it at
// most. After a warm-up round every timed run follows another tool's run.
for (let i = -WARMUP; i < RUNS; i++) {
  for (const [name, t] of active) {
    if (!t) continue;
    // Every run starts without the previous run's outputs, for every tool: `argus -w` appends to an existing file
    // (ra would then read the earlier runs' records too), and replacing a 480 MB file costs its deletion (0.4–0.7 s
    // on this VM, measured in flowsift's final rename), which is not the tool's work.
    for (const f of readdirSync(out)) rmSync(join(out, f), { recursive: true, force: true });
    const run = timed(t.steps);
    if (i >= 0) runsOf.get(name).push(run);
    const label = i < 0 ? `warm-up ${i + WARMUP + 1}/${WARMUP}` : `run ${i + 1}/${RUNS}`;
    process.stderr.write(`${name} ${label}: ${run.wall.toFixed(2)} s, ${(run.rss / 1024).toFixed(0)} MiB\n`);
  }
}
const rows = [];
for (const [name, t] of active) {
  if (!t) { rows.push({ name, skipped: 'not installed' }); continue; }
  const runs = runsOf.get(name);
  const wall = median(runs.map((r) => r.wall));
  rows.push({ name, runs, wall, rss: Math.max(...runs.map((r) => r.rss)), pps: packets / wall, mbps: size / 1e6 / wall, note: t.note });
}

console.log(`benchmark capture: ${capture} (${packets.toLocaleString('en-US')} packets, ${(size / 1e6).toFixed(0)} MB), median of ${RUNS} runs (tools interleaved run by run, after ${WARMUP} untimed warm-up round${WARMUP === 1 ? '' : 's'}), ${new Date().toISOString()}`);
console.log('');
const fs = rows.find((r) => r.name === 'flowsift' && r.wall);
console.log(`${'tool'.padEnd(10)} ${'wall s'.padStart(8)} ${'Mpps'.padStart(7)} ${'MB/s'.padStart(7)} ${'peak RSS'.padStart(10)} ${'flowsift ×'.padStart(11)}  output`);
for (const r of rows) {
  if (r.skipped) { console.log(`${r.name.padEnd(10)} skipped: ${r.skipped}`); continue; }
  const ratio = fs ? median(r.runs.map((run, i) => run.wall / fs.runs[i].wall)).toFixed(2) : '';
  console.log(`${r.name.padEnd(10)} ${r.wall.toFixed(2).padStart(8)} ${(r.pps / 1e6).toFixed(3).padStart(7)} ${r.mbps.toFixed(1).padStart(7)} ${`${(r.rss / 1024).toFixed(0)} MiB`.padStart(10)} ${ratio.padStart(11)}  ${r.note}`);
}
if (fs) {
  for (const r of rows) {
    if (r.skipped || r === fs) continue;
    console.log(`  ${r.name} / flowsift run by run: ${r.runs.map((run, i) => (run.wall / fs.runs[i].wall).toFixed(2)).join(', ')}`);
  }
}

// ---- tree training: flowsift vs scikit-learn on the same lab/train features ---------------------------
// Both "scale + fit": StandardScaler fit + transform, then the tree (no depth limit). flowsift as a user runs
// it (`flowsift train`, a fresh process: the JIT compiles the training loops during the fit) and in-process
// (scripts/tree-curve.mjs: its first fit, then warm fits); scikit-learn in-process (scripts/tree-curve.py).
// CPU seconds (process.cpuUsage / time.process_time) are the fairer figures on a shared machine.
const PY = '/usr/bin/python3';
const sklearnOk = spawnSync(PY, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' }).status === 0;
/** Runs a helper printing one JSON line; returns it parsed. */
function jsonOf(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`failed: ${cmd} ${argv.join(' ')}\n${(r.stderr ?? '').slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}
const fmtS = (s) => (Number.isFinite(s) ? s.toFixed(3) : 'n/a');
if (ONLY.includes('train')) {
  const lab = join(SHARED, 'datasets', 'lab', 'train');
  if (!existsSync(join(lab, 'capture.pcap'))) console.log('\ntrain: skipped (../shared/datasets/lab not found)');
  else if (!sklearnOk) console.log('\ntrain: skipped (scikit-learn not found for /usr/bin/python3: Debian python3-sklearn)');
  else {
    const csv = join(out, 'lab-train.csv');
    execFileSync('sh', ['-c', `${flowsift} extract ${lab}/capture.pcap --labels ${lab}/labels.csv -o ${csv} -q`]);
    const cli = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync('sh', ['-c', `${flowsift} train ${csv} --model ${out}/m -q`], { encoding: 'utf8' });
      const m = /scale \+ fit ([\d.]+) s/.exec(r.stdout);
      if (!m) throw new Error(`flowsift train printed no "scale + fit" time:\n${r.stdout}${r.stderr}`);
      cli.push(Number(m[1]));
    }
    // The model's numeric feature columns and the label of the same CSV (identifiers and text dropped).
    const header = readFileSync(csv, 'utf8').slice(0, 20000).split('\n')[0].split(',');
    const model = JSON.parse(readFileSync(join(out, 'm', 'model.json'), 'utf8'));
    const cols = model.featureNames.map((n) => header.indexOf(n) + 1);
    cols.push(header.indexOf('Label') + 1);
    const num = join(out, 'lab-train-num.csv');
    execFileSync('sh', ['-c', `cut -d, -f${cols.join(',')} ${csv} > ${num}`]);
    const sk = jsonOf(PY, [join(REPO, 'scripts', 'tree-curve.py'), 'fit', '--csv', num, '--scale', '--repeat', String(RUNS)]);
    const fsRuns = [];
    for (let i = 0; i < RUNS; i++) {
      fsRuns.push(jsonOf('node', [join(REPO, 'scripts', 'tree-curve.mjs'), '--csv', num, '--scale', '--repeat', String(RUNS), '--random-state', String(sk.flowsift_random_state)]));
    }
    // End to end, as a user waits for it: a fresh process that reads the same numeric CSV, scales and fits
    // (flowsift's `train` also fits its open-set guard, ranks the features and writes the model; scikit-learn's
    // script imports numpy and scikit-learn and reads with numpy.loadtxt). Interleaved run by run.
    const e2eFs = [], e2eSk = [];
    for (let i = 0; i < RUNS; i++) {
      e2eFs.push(timed([`${flowsift} train ${num} --model ${out}/m-num -q >/dev/null`]).wall);
      e2eSk.push(timed([`${PY} ${join(REPO, 'scripts', 'tree-curve.py')} fit --csv ${num} --scale --repeat 1 >/dev/null`]).wall);
    }
    const fs = fsRuns.at(-1);
    const coldWall = median(fsRuns.map((r) => r.cold_seconds));
    const coldCpu = median(fsRuns.map((r) => r.cold_cpu_seconds));
    const warmWall = median(fsRuns.map((r) => r.fit_seconds));
    const warmCpu = median(fsRuns.map((r) => r.fit_cpu_seconds));
    const cliWall = median(cli);
    console.log(`\ntree training on lab/train (${model.training.flows.toLocaleString('en-US')} flows × ${model.featureNames.length} features), scale + fit, medians of ${RUNS}:`);
    console.log(`  ${'flowsift train (CLI, fresh process)'.padEnd(46)} ${fmtS(cliWall).padStart(7)} s wall`);
    console.log(`  ${'flowsift in-process, first fit (JIT cold)'.padEnd(46)} ${fmtS(coldWall).padStart(7)} s wall ${fmtS(coldCpu).padStart(7)} s CPU`);
    console.log(`  ${'flowsift in-process, warm'.padEnd(46)} ${fmtS(warmWall).padStart(7)} s wall ${fmtS(warmCpu).padStart(7)} s CPU  (${fs.node_count} nodes, depth ${fs.depth})`);
    console.log(`  ${'scikit-learn (StandardScaler + tree)'.padEnd(46)} ${fmtS(sk.fit_seconds).padStart(7)} s wall ${fmtS(sk.fit_cpu_seconds).padStart(7)} s CPU  (${sk.node_count} nodes, depth ${sk.depth})`);
    console.log(`  ${'end to end, whole process (read CSV, scale, fit)'.padEnd(46)} flowsift train ${fmtS(median(e2eFs))} s, scikit-learn script ${fmtS(median(e2eSk))} s wall (ratio ${(median(e2eFs) / median(e2eSk)).toFixed(2)})`);
    console.log(`  ratio flowsift / scikit-learn: CLI ${(cliWall / sk.fit_seconds).toFixed(2)} (wall), first fit ${(coldCpu / sk.fit_cpu_seconds).toFixed(2)} (CPU), warm ${(warmCpu / sk.fit_cpu_seconds).toFixed(2)} (CPU)`);
  }
}

// ---- tree training time against rows: flowsift vs scikit-learn on synthetic data -----------------------
// scripts/tree-curve.py builds the data (fixed seed, cached in .bench-cache) and times scikit-learn;
// scripts/tree-curve.mjs times flowsift in-process after warm-up fits. Same data, same tree (the node
// counts are printed). --runs fits per size, one at 1,000,000 rows (45–60 s of CPU for scikit-learn on a
// loaded 2-core machine).
if (ONLY.includes('curve')) {
  if (!sklearnOk) console.log('\ncurve: skipped (scikit-learn not found for /usr/bin/python3: Debian python3-sklearn)');
  else {
    const sizes = [10000, 100000, 1000000];
    const res = [];
    for (const n of sizes) {
      const file = join(CACHE, `tree-curve-${n}.bin`);
      if (!existsSync(file) || !existsSync(`${file}.json`)) {
        const g = spawnSync(PY, [join(REPO, 'scripts', 'tree-curve.py'), 'gen', '--rows', String(n), '--out', file], { stdio: 'inherit' });
        if (g.status !== 0) die('tree-curve.py gen failed');
      }
      const runs = n >= 1000000 ? 1 : RUNS;
      const sk = jsonOf(PY, [join(REPO, 'scripts', 'tree-curve.py'), 'fit', '--data', file, '--repeat', String(runs)]);
      const fs = jsonOf('node', [join(REPO, 'scripts', 'tree-curve.mjs'), '--data', file, '--repeat', String(runs), '--random-state', String(sk.flowsift_random_state)]);
      res.push({ n, sk, fs, runs });
      process.stderr.write(`curve ${n}: flowsift ${fs.fit_cpu_seconds.toFixed(2)} s CPU, scikit-learn ${sk.fit_cpu_seconds.toFixed(2)} s CPU\n`);
    }
    const nlogn = (n) => n * Math.log2(n);
    const meta = JSON.parse(readFileSync(join(CACHE, `tree-curve-${sizes[0]}.bin.json`), 'utf8'));
    console.log(`\ntree training time against rows (synthetic: ${meta.cols} features, ${meta.lowCardinality.length} of them low-cardinality, ${meta.classes} classes, 1% label noise; no depth limit; median of ${RUNS} fits, 1 at 1M; CPU s, wall s in parentheses):`);
    console.log(`${'rows'.padStart(10)} ${'nodes'.padStart(8)} ${'depth'.padStart(5)} ${'flowsift s'.padStart(17)} ${'scikit-learn s'.padStart(17)} ${'sklearn/flowsift'.padStart(16)} ${'flowsift ns/(n log2 n)'.padStart(22)} ${'sklearn ns/(n log2 n)'.padStart(21)}`);
    for (const { n, sk, fs } of res) {
      const nodes = fs.node_count === sk.node_count ? fs.node_count.toLocaleString('en-US') : `${fs.node_count}≠${sk.node_count}`;
      const cell = (r) => `${r.fit_cpu_seconds.toFixed(3)} (${r.fit_seconds.toFixed(3)})`;
      console.log(`${n.toLocaleString('en-US').padStart(10)} ${nodes.padStart(8)} ${String(fs.depth).padStart(5)} ${cell(fs).padStart(17)} ${cell(sk).padStart(17)} ${(sk.fit_cpu_seconds / fs.fit_cpu_seconds).toFixed(2).padStart(16)} ${((fs.fit_cpu_seconds / nlogn(n)) * 1e9).toFixed(1).padStart(22)} ${((sk.fit_cpu_seconds / nlogn(n)) * 1e9).toFixed(1).padStart(21)}`);
    }
    const growth = [];
    for (let i = 1; i < res.length; i++) {
      const a = res[i - 1], b = res[i];
      const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
      growth.push(`${label(a.n)}→${label(b.n)}: flowsift ×${(b.fs.fit_cpu_seconds / a.fs.fit_cpu_seconds).toFixed(1)}, scikit-learn ×${(b.sk.fit_cpu_seconds / a.sk.fit_cpu_seconds).toFixed(1)} (n log2 n ×${(nlogn(b.n) / nlogn(a.n)).toFixed(1)})`);
    }
    console.log(`growth of the CPU time: ${growth.join('; ')}`);
  }
}

// ---- scoring throughput on the benchmark capture ------------------------------------------------------
if (ONLY.includes('score')) {
  const m = join(REPO, 'models', 'lab-tree');
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(join(out, 'scored.csv'), { force: true }); // as above: no run pays for deleting the previous one's output
    runs.push(timed([`${flowsift} score ${capture} --model ${m} -o ${out}/scored.csv -q 2>/dev/null`]));
  }
  const wall = median(runs.map((r) => r.wall));
  console.log(`score (${m}): ${wall.toFixed(2)} s, ${(packets / wall / 1e6).toFixed(3)} Mpps, ${(FLOWS / wall / 1e3).toFixed(0)} k flows/s, peak RSS ${(Math.max(...runs.map((r) => r.rss)) / 1024).toFixed(0)} MiB`);
}
writeFileSync(join(CACHE, 'last-bench.txt'), `${JSON.stringify(rows)}\n`);

/** `flowsift extract CAPTURE... [-o FILE] [--label NAME | --labels FILE]`: flows → CSV. */
import type { Command } from 'commander';
import { type CsvLayout, FlowCsvWriter } from '../../dataset/csv.js';
import { sharedTableCapacity, ThreadedFlowCsvWriter } from '../../dataset/csv-thread.js';
import { extractFilesInParallel } from '../../dataset/parallel-extract.js';
import { OutputSink } from '../../dataset/output.js';
import { NFSTREAM_FEATURES } from '../../features/families/nfstream.js';
import { NFSTREAM_STATS_FEATURES } from '../../features/families/nfstream-stats.js';
import { createFeatureSet } from '../../features/registry.js';
import type { MeterOptions } from '../../features/meter.js';
import { UsageError } from '../errors.js';
import { addMeterOptions, extractThreads, info, labellerFrom, meterOptions, readCaptures, summaryLine, THREAD_MIN_INPUT_BYTES } from '../inputs.js';

/** Names of the nfstream columns (features/families/nfstream.ts, nfstream-stats.ts), in nfstream's column order. */
const NFSTREAM_BASE_COLUMNS: readonly string[] = NFSTREAM_FEATURES.map((d) => d.name);
const NFSTREAM_STATS_COLUMNS: readonly string[] = NFSTREAM_STATS_FEATURES.map((d) => d.name);

/**
 * The CSV layout of a profile, for registry feature names `names`:
 * - `flowsift`: CICFlowMeter identifier columns and every feature except the nfstream columns (so the header is
 *   CICFlowMeter's: identifiers, its 76 features, then text columns and Label);
 * - `nfstream`: nfstream's identifier columns, the nfstream columns in nfstream's order (`tunnel_id`,
 *   `bidirectional_first_seen_ms`, …; the statistical columns only with `statistics`, as nfstream), then the other
 *   features (CICFlowMeter's).
 */
export function csvLayout(profile: string, names: readonly string[], statistics = false): CsvLayout {
  const index = new Map(names.map((n, i) => [n, i]));
  const pick = (cols: readonly string[]): number[] => cols.map((n) => index.get(n)).filter((i): i is number => i !== undefined);
  const base = pick(NFSTREAM_BASE_COLUMNS), stats = pick(NFSTREAM_STATS_COLUMNS);
  const nfSet = new Set([...base, ...stats]);
  const others = names.map((_, i) => i).filter((i) => !nfSet.has(i));
  return profile === 'nfstream'
    ? { identifiers: 'nfstream', featureIndices: [...base, ...(statistics ? stats : []), ...others] }
    : { identifiers: 'cic', featureIndices: others };
}

export function registerExtract(program: Command): void {
  addMeterOptions(
    program.command('extract')
      .description('turn captures into one CSV row per bidirectional flow (identifiers, features, Label); with --profile nfstream, nfstream\'s identifier and counter columns come first')
      .argument('<capture...>', 'pcap or pcapng files; - reads stdin (e.g. tcpdump -w -)')
      .option('-o, --output <file>', 'CSV output file (- = stdout)', '-')
      .option('--label <name>', 'give every flow this label')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--threads <n>', 'worker threads: several captures are extracted N at a time (output still in input order); one capture is '
        + `formatted on a thread while the main one reads packets; 0 = no threads (default: one per core for inputs over ${THREAD_MIN_INPUT_BYTES >> 20} MiB)`)
      .option('-q, --quiet', 'no summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const labeller = labellerFrom(o, false);
    const threads = extractThreads(o, captures);
    const set = createFeatureSet();
    const names = set.features.map((f) => f.name);
    const textNames = set.textColumns.map((c) => c.name);
    const layout = csvLayout(String(o.profile ?? 'flowsift'), names, o.statisticalAnalysis === true);
    // Families none of whose columns are written are not run (the nfstream columns in the flowsift profile).
    const written = new Set(layout.featureIndices ?? names.map((_, i) => i));
    const skipFamilies = set.families.filter((f, i) => !set.positions[i].some((p) => written.has(p))).map((f) => f.name);
    const sink = OutputSink.open(String(o.output));
    const parallel = threads > 0 && captures.length > 1 && !captures.includes('-');
    // One capture on a formatting thread: the numeric features and connection states are computed there too, from
    // the meter's records in shared memory.
    const meter = meterOptions(o);
    const deferred: MeterOptions = {
      ...meter, skipFamilies, deferNumeric: true, deferText: true, shareRecords: true,
      initialCapacity: sharedTableCapacity(meter.maxFlows ?? Infinity),
    };
    const threaded = threads > 0 && !parallel
      ? new ThreadedFlowCsvWriter(sink, names, textNames, labeller !== null, layout, undefined, deferred) : null;
    try {
      if (parallel) {
        await extractFilesInParallel(captures, sink, {
          threads, meter: { ...meterOptions(o), skipFamilies }, featureNames: names, textNames, layout,
          label: o.label === undefined ? undefined : String(o.label), labels: o.labels === undefined ? undefined : String(o.labels),
          onCapture: (_i, summary, seconds) => {
            for (const w of summary.capture.warnings ?? []) process.stderr.write(`flowsift: warning: ${w}\n`);
            info(o, summaryLine(summary, seconds));
          },
        });
      } else if (threaded) {
        await readCaptures(captures, o, (flow) => threaded.write(flow, labeller?.labelOf(flow)), deferred);
        await threaded.close();
      } else {
        const writer = new FlowCsvWriter(sink, names, textNames, labeller !== null, layout);
        await readCaptures(captures, o, (flow) => writer.write(flow, labeller?.labelOf(flow)), { skipFamilies });
      }
      sink.close();
    } catch (e) {
      await threaded?.abort();
      sink.abort();
      throw e;
    }
  });
}

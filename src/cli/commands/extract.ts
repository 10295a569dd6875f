/** `flowsift extract CAPTURE... [-o FILE] [--label NAME | --labels FILE]`: flows → CSV. */
import type { Command } from 'commander';
import { type CsvLayout, FlowCsvWriter } from '../../dataset/csv.js';
import { OutputSink } from '../../dataset/output.js';
import { NFSTREAM_FEATURES } from '../../features/families/nfstream.js';
import { NFSTREAM_STATS_FEATURES } from '../../features/families/nfstream-stats.js';
import { createFeatureSet } from '../../features/registry.js';
import { addMeterOptions, labellerFrom, readCaptures } from '../inputs.js';

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
      .option('-q, --quiet', 'no summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const labeller = labellerFrom(o, false);
    const set = createFeatureSet();
    const names = set.features.map((f) => f.name);
    const textNames = set.textColumns.map((c) => c.name);
    const sink = OutputSink.open(String(o.output));
    try {
      const writer = new FlowCsvWriter(sink, names, textNames, labeller !== null, csvLayout(String(o.profile ?? 'flowsift'), names, o.statisticalAnalysis === true));
      await readCaptures(captures, o, (flow) => writer.write(flow, labeller?.labelOf(flow)));
      sink.close();
    } catch (e) {
      sink.abort();
      throw e;
    }
  });
}

/** `flowsift extract CAPTURE... [-o FILE] [--label NAME | --labels FILE]`: flows → CSV. */
import type { Command } from 'commander';
import { FlowCsvWriter } from '../../dataset/csv.js';
import { OutputSink } from '../../dataset/output.js';
import { createFeatureSet } from '../../features/registry.js';
import { addMeterOptions, labellerFrom, readCaptures } from '../inputs.js';

export function registerExtract(program: Command): void {
  addMeterOptions(
    program.command('extract')
      .description('turn captures into one CSV row per bidirectional flow (identifiers, features, Label)')
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
      const writer = new FlowCsvWriter(sink, names, textNames, labeller !== null);
      await readCaptures(captures, o, (flow) => writer.write(flow, labeller?.labelOf(flow)));
      sink.close();
    } catch (e) {
      sink.abort();
      throw e;
    }
  });
}

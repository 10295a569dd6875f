/**
 * `flowsift score CAPTURE... --model DIR [-o FILE] [--json]`: predict every flow as it finishes (streaming:
 * flows are not held in memory) and report the ones not predicted BENIGN.
 */
import type { Command } from 'commander';
import { csvField } from '../../dataset/csv.js';
import { BENIGN } from '../../dataset/labels.js';
import { OutputSink } from '../../dataset/output.js';
import type { FinishedFlow } from '../../features/meter.js';
import { createFeatureSet } from '../../features/registry.js';
import { loadBundle, ModelPipeline } from '../../model/bundle.js';
import { addMeterOptions, readCaptures } from '../inputs.js';

/** Columns of the scored-flow CSV (`score -o FILE`). */
export const SCORE_COLUMNS = ['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp', 'Prediction', 'Probability'] as const;

export function registerScore(program: Command): void {
  addMeterOptions(
    program.command('score')
      .description('predict the flows of captures with a model and report every flow not predicted BENIGN')
      .argument('<capture...>', 'pcap or pcapng files; - reads stdin (e.g. tcpdump -w -)')
      .requiredOption('--model <dir>', 'model bundle directory')
      .option('-o, --output <file>', 'write flagged flows as CSV to this file (- = stdout)')
      .option('--json', 'write flagged flows as JSON lines')
      .option('--all', 'report every flow, BENIGN included')
      .option('-q, --quiet', 'no capture summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const bundle = loadBundle(String(o.model));
    const registry = createFeatureSet().features.map((f) => f.name);
    const scorer = new ModelPipeline(bundle).bind(registry);
    const k = bundle.classNames.length;
    const proba = new Float64Array(k);
    const counts = new Map<string, number>();
    let total = 0;

    const toFile = o.output !== undefined;
    const sink = OutputSink.open(toFile ? String(o.output) : '-');
    const json = o.json === true;
    if (toFile && !json) sink.write(`${SCORE_COLUMNS.join(',')}\n`);
    const human = !toFile && !json;
    if (human) sink.write(`${'start (UTC)'.padEnd(27)} ${'proto'.padEnd(5)} ${'initiator'.padEnd(40)} ${'responder'.padEnd(40)} ${'prediction'.padEnd(12)} probability\n`);

    const onFlow = (flow: FinishedFlow): void => {
      scorer.predictProbaRow(flow.features, proba);
      let best = 0;
      for (let c = 1; c < k; c++) if (proba[c] > proba[best]) best = c;
      const label = bundle.classNames[best];
      total++;
      counts.set(label, (counts.get(label) ?? 0) + 1);
      if (label === BENIGN && !o.all) return;
      const p = proba[best];
      if (json) {
        sink.write(`${JSON.stringify({
          flow_id: flow.flowId, src_ip: flow.srcIp, src_port: flow.srcPort, dst_ip: flow.dstIp, dst_port: flow.dstPort,
          protocol: flow.protocol, timestamp: flow.timestamp, prediction: label, probability: p,
        })}\n`);
      } else if (toFile) {
        sink.write(`${flow.flowId},${flow.srcIp},${flow.srcPort},${flow.dstIp},${flow.dstPort},${flow.protocol},${flow.timestamp},${csvField(label)},${p}\n`);
      } else {
        const a = `${flow.srcIp}:${flow.srcPort}`, b = `${flow.dstIp}:${flow.dstPort}`;
        sink.write(`${flow.timestamp.padEnd(27)} ${String(flow.protocol).padEnd(5)} ${a.padEnd(40)} ${b.padEnd(40)} ${label.padEnd(12)} ${p.toFixed(3)}\n`);
      }
    };
    try {
      await readCaptures(captures, o, onFlow);
      sink.close();
    } catch (e) {
      sink.abort();
      throw e;
    }
    // One summary line per predicted label; on stderr when stdout carries machine-readable rows.
    const flagged = [...counts].filter(([l]) => l !== BENIGN).reduce((s, [, n]) => s + n, 0);
    const lines = [
      `${total.toLocaleString('en-US')} flows scored, ${flagged.toLocaleString('en-US')} flagged (not ${BENIGN})`,
      ...[...counts].sort((a, b) => b[1] - a[1]).map(([l, n]) => `  ${l}: ${n.toLocaleString('en-US')} flows`),
    ];
    const summary = `${lines.join('\n')}\n`;
    if (human) process.stdout.write(summary); else process.stderr.write(summary);
  });
}

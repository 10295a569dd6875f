/**
 * `flowsift score CAPTURE... --model DIR [-o FILE] [--json] [--threshold T]`: predict every flow as it
 * finishes (streaming: flows are not held in memory) and report the ones not predicted BENIGN.
 *
 * Trees score each flow as it ends. TensorFlow.js models (mlp, autoencoder) score flows in batches of up
 * to 4096 (one network call per batch instead of per flow); a batch is also scored 1 s after its first
 * flow arrived, so a slow live capture is reported with at most about a second of delay. Output order is
 * the flow order either way.
 */
import type { Command } from 'commander';
import { csvField } from '../../dataset/csv.js';
import { BENIGN } from '../../dataset/labels.js';
import { OutputSink } from '../../dataset/output.js';
import type { FinishedFlow } from '../../features/meter.js';
import { createFeatureSet } from '../../features/registry.js';
import type { AutoencoderDetector } from '../../model/autoencoder.js';
import { loadBundleAsync, ModelPipeline, TFJS_ALGOS } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { UsageError } from '../errors.js';
import { addMeterOptions, readCaptures } from '../inputs.js';
import { thresholdOption } from './evaluate.js';

/** Flows per network call when scoring with a TensorFlow.js model. */
const BATCH_FLOWS = 4096;
/** A partial batch is scored this long after its first flow arrived (ms). */
const BATCH_DELAY_MS = 1000;

/** The identifying fields of a flow that a scored line prints. */
type FlowFields = Pick<FinishedFlow, 'flowId' | 'srcIp' | 'srcPort' | 'dstIp' | 'dstPort' | 'protocol' | 'timestamp'>;

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
      .option('--threshold <t>', 'autoencoder: anomaly threshold on the reconstruction error (default: the one stored in the model)')
      .option('-q, --quiet', 'no capture summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const threshold = o.threshold === undefined ? undefined : thresholdOption(o.threshold);
    const bundle = await loadBundleAsync(String(o.model));
    if (threshold !== undefined) {
      if (bundle.model.algo !== 'autoencoder') throw new UsageError(`--threshold applies to autoencoder models; ${String(o.model)} holds a '${bundle.model.algo}' model`);
      (bundle.model as AutoencoderDetector).threshold = threshold;
    }
    const registry = createFeatureSet().features.map((f) => f.name);
    const pipeline = new ModelPipeline(bundle);
    const scorer = pipeline.bind(registry);
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

    const emit = (flow: FlowFields, proba: Float64Array): void => {
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

    // TensorFlow.js models: batches (see the module documentation); trees: one flow at a time.
    const batched = TFJS_ALGOS.includes(bundle.model.algo);
    const nf = registry.length;
    const buf = new Float64Array(batched ? BATCH_FLOWS * nf : 0);
    const pending: FlowFields[] = [];
    let timer: NodeJS.Timeout | null = null;
    let timerError: unknown = null;
    const flush = (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const n = pending.length;
      if (n === 0) return;
      const p = pipeline.predictProba(createMatrix(n, nf, registry, buf.subarray(0, n * nf)));
      for (let i = 0; i < n; i++) emit(pending[i]!, p.subarray(i * k, (i + 1) * k));
      pending.length = 0;
    };
    const onFlow = (flow: FinishedFlow): void => {
      if (!batched) {
        scorer.predictProbaRow(flow.features, proba);
        emit(flow, proba);
        return;
      }
      buf.set(flow.features, pending.length * nf);
      const { flowId, srcIp, srcPort, dstIp, dstPort, protocol, timestamp } = flow;
      pending.push({ flowId, srcIp, srcPort, dstIp, dstPort, protocol, timestamp });
      if (pending.length === BATCH_FLOWS) flush();
      else timer ??= setTimeout(() => {
        try {
          flush();
        } catch (e) {
          timerError ??= e; // rethrown below, after the reader returns
        }
      }, BATCH_DELAY_MS);
    };
    try {
      await readCaptures(captures, o, onFlow);
      if (timerError !== null) throw timerError;
      flush();
      sink.close();
    } catch (e) {
      if (timer !== null) clearTimeout(timer);
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

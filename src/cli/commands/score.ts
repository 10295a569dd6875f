/**
 * `flowsift score CAPTURE... --model DIR [-o FILE] [--json] [--threshold T]`: predict every flow as it
 * finishes (streaming: flows are not held in memory) and report the ones not predicted BENIGN.
 *
 * Trees score each flow as it ends. TensorFlow.js models (mlp, autoencoder) score flows in batches of up
 * to 4096 (one network call per batch instead of per flow); a batch is also scored 1 s after its first
 * flow arrived, so a slow live capture is reported with at most about a second of delay. Output order is
 * the flow order either way.
 *
 * Open-set guard (src/model/openset.ts; stored by `train` unless `--no-open-set`): a flow predicted as an
 * attack class but farther than that class's threshold from every training prototype of it is reported as
 * `UNKNOWN` ("unlike anything the model was trained on") instead of the attack class; a flow predicted BENIGN
 * stays BENIGN whatever its distance (the guard never raises an alert; it shows as low confidence).
 * `Confidence` = the model's probability of its class × the guard's in-distribution confidence
 * `1 / (1 + r⁴)` (r = distance ratio; < 0.5 × probability exactly when r > 1): low when the model hesitates or the flow
 * is unlike the class's training flows. A model without a guard has no confidence: `-` in the text, an empty
 * CSV field, `null` in JSON. JSON lines also carry `model_class` (the class before the guard) and
 * `distance_ratio`. The summary counts UNKNOWN flows by the class the model gave them, and BENIGN flows that
 * are out of distribution (with `--all`: without it BENIGN flows are not searched, their label cannot change).
 * Distance ratios are capped at 2 (src/model/openset.ts RATIO_CAP), so the confidence of a far flow is
 * ≥ 0.059 × probability.
 */
import type { Command } from 'commander';
import { csvField, writeCicIdentifiers } from '../../dataset/csv.js';
import { BENIGN } from '../../dataset/labels.js';
import { OutputSink } from '../../dataset/output.js';
import { FLOW_ID_WIDTH, FlowIdsView } from '../../features/meter.js';
import type { FinishedFlow } from '../../features/meter.js';
import { createFeatureSet } from '../../features/registry.js';
import { loadBundleAsync, ModelPipeline, TFJS_ALGOS } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { OpenSetGuard, UNKNOWN } from '../../model/openset.js';
import { addMeterOptions, readCaptures } from '../inputs.js';
import { applyThresholdOption, THRESHOLD_HELP, thresholdOption } from './evaluate.js';

/** Flows per network call when scoring with a TensorFlow.js model. */
const BATCH_FLOWS = 4096;
/** A partial batch is scored this long after its first flow arrived (ms). */
const BATCH_DELAY_MS = 1000;

/** The identifying fields of a flow that a scored line prints. */
/** What a scored row shows of its flow: a finished flow, or (batched models) a view of its copied identifiers. */
type FlowFields = Pick<FinishedFlow, 'flowId' | 'srcIp' | 'srcPort' | 'dstIp' | 'dstPort' | 'protocol' | 'timestamp' | 'srcIpv4' | 'dstIpv4' | 'firstSec' | 'firstNsec'>;

/** Columns of the scored-flow CSV (`score -o FILE`). */
export const SCORE_COLUMNS = ['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp', 'Prediction', 'Probability', 'Confidence'] as const;

export function registerScore(program: Command): void {
  addMeterOptions(
    program.command('score')
      .description('predict the flows of captures with a model and report every flow not predicted BENIGN')
      .argument('<capture...>', 'pcap or pcapng files; - reads stdin (e.g. tcpdump -w -)')
      .requiredOption('--model <dir>', 'model bundle directory')
      .option('-o, --output <file>', 'write flagged flows as CSV to this file (- = stdout)')
      .option('--json', 'write flagged flows as JSON lines')
      .option('--all', 'report every flow, BENIGN included')
      .option('--threshold <t>', THRESHOLD_HELP)
      .option('-q, --quiet', 'no capture summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    if (o.threshold !== undefined) thresholdOption(o.threshold);
    const bundle = await loadBundleAsync(String(o.model));
    const registry = createFeatureSet().features.map((f) => f.name);
    const pipeline = new ModelPipeline(bundle);
    applyThresholdOption(pipeline, o); // the stored alert threshold unless --threshold replaces it
    const scorer = pipeline.bind(registry);
    const guard = pipeline.openSet;
    const all = o.all === true;
    const k = bundle.classNames.length;
    const proba = new Float64Array(k);
    const counts = new Map<string, number>();
    /** UNKNOWN flows per class the model gave them. */
    const unknownFrom = new Map<string, number>();
    /** Flows that stayed BENIGN although out of distribution (distance ratio > 1). */
    let benignOutside = 0;
    let total = 0;

    const toFile = o.output !== undefined;
    const sink = OutputSink.open(toFile ? String(o.output) : '-');
    const json = o.json === true;
    if (toFile && !json) sink.write(`${SCORE_COLUMNS.join(',')}\n`);
    const human = !toFile && !json;
    if (human) sink.write(`${'start (UTC)'.padEnd(27)} ${'proto'.padEnd(5)} ${'initiator'.padEnd(40)} ${'responder'.padEnd(40)} ${'prediction'.padEnd(12)} probability confidence\n`);

    /** Reports one flow: `best` the decided class, `p` its probability, `ratio` the guard's distance ratio (null: no guard). */
    const emit = (flow: FlowFields, best: number, p: number, ratio: number | null): void => {
      const modelClass = bundle.classNames[best]!;
      const label = pipeline.label(best, ratio);
      total++;
      counts.set(label, (counts.get(label) ?? 0) + 1);
      if (label === UNKNOWN) unknownFrom.set(modelClass, (unknownFrom.get(modelClass) ?? 0) + 1);
      else if (label === BENIGN && ratio !== null && ratio > 1) benignOutside++;
      if (label === BENIGN && !all) return;
      const conf = ratio === null || Number.isNaN(ratio) ? null : p * OpenSetGuard.confidence(ratio);
      if (json) {
        sink.write(`${JSON.stringify({
          flow_id: flow.flowId, src_ip: flow.srcIp, src_port: flow.srcPort, dst_ip: flow.dstIp, dst_port: flow.dstPort,
          protocol: flow.protocol, timestamp: flow.timestamp, prediction: label, probability: p, confidence: conf,
          model_class: modelClass, distance_ratio: conf === null ? null : ratio,
        })}\n`);
      } else if (toFile) {
        // Identifiers and numbers as bytes, as extract writes them (the same text as String()).
        writeCicIdentifiers(sink, flow);
        sink.byte(44); sink.write(csvField(label));
        sink.byte(44); sink.number(p);
        sink.byte(44); if (conf !== null) sink.number(conf);
        sink.byte(10);
      } else {
        const a = `${flow.srcIp}:${flow.srcPort}`, b = `${flow.dstIp}:${flow.dstPort}`;
        sink.write(`${flow.timestamp.padEnd(27)} ${String(flow.protocol).padEnd(5)} ${a.padEnd(40)} ${b.padEnd(40)} ${label.padEnd(12)} ${p.toFixed(3).padEnd(11)} ${conf === null ? '-' : conf.toFixed(3)}\n`);
      }
    };

    // TensorFlow.js models: batches (see the module documentation); trees: one flow at a time.
    const batched = TFJS_ALGOS.includes(bundle.model.algo);
    const nf = registry.length;
    const buf = new Float64Array(batched ? BATCH_FLOWS * nf : 0);
    /** Identifiers of the batch's flows (FinishedFlow.writeIds), read back through `view`. */
    const ids = new Float64Array(batched ? BATCH_FLOWS * FLOW_ID_WIDTH : 0);
    const view = new FlowIdsView(ids);
    let pending = 0;
    let timer: NodeJS.Timeout | null = null;
    let timerError: unknown = null;
    const flush = (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const n = pending;
      if (n === 0) return;
      const c = pipeline.classify(createMatrix(n, nf, registry, buf.subarray(0, n * nf)), all);
      for (let i = 0; i < n; i++) {
        view.at = i * FLOW_ID_WIDTH;
        emit(view, c.classIndex[i]!, c.probability[i]!, c.distanceRatio ? c.distanceRatio[i]! : null);
      }
      pending = 0;
    };
    const onFlow = (flow: FinishedFlow): void => {
      if (!batched) {
        scorer.predictProbaRow(flow.features, proba);
        const best = pipeline.decide(proba);
        // The search is skipped for a pass class (BENIGN) unless the flow is printed: its label cannot change.
        emit(flow, best, proba[best]!, guard === null || (!all && !guard.guards(best)) ? null : scorer.distanceRatioRow(flow.features, best));
        return;
      }
      buf.set(flow.features, pending * nf);
      flow.writeIds(ids, pending * FLOW_ID_WIDTH);
      if (++pending === BATCH_FLOWS) flush();
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
      ...[...counts].sort((a, b) => b[1] - a[1]).map(([l, n]) => `  ${l}: ${n.toLocaleString('en-US')} flows${l === UNKNOWN ? ` (unlike the training flows of the class the model gave them: ${[...unknownFrom].sort((a, b) => b[1] - a[1]).map(([c, m]) => `${c} ${m.toLocaleString('en-US')}`).join(', ')})` : ''}`),
      ...(benignOutside > 0 ? [`  (${benignOutside.toLocaleString('en-US')} ${BENIGN} flows are out of the training distribution: kept ${BENIGN}, low confidence)`] : []),
    ];
    const summary = `${lines.join('\n')}\n`;
    if (human) process.stdout.write(summary); else process.stderr.write(summary);
  });
}

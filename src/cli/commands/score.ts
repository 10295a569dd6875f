/**
 * `flowsift score CAPTURE... --model DIR [-o FILE] [--json] [--threshold T] [--threads N]`: predict every flow as it
 * finishes (streaming: flows are not held in memory) and report the ones not predicted BENIGN.
 *
 * Trees score each flow as it ends; with `--threads 1` (the default for large inputs, as `extract` decides) on the
 * formatting thread of a ThreadedFlowCsvWriter, which computes the flow's features from the meter's records,
 * predicts and writes it (src/model/score-rows.ts) while the main thread meters packets; the output is the same.
 * TensorFlow.js models (mlp, autoencoder) score flows in batches of up
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
import { sharedTableCapacity, ThreadedFlowCsvWriter } from '../../dataset/csv-thread.js';
import { BENIGN } from '../../dataset/labels.js';
import { OutputSink } from '../../dataset/output.js';
import { FLOW_ID_WIDTH, FlowIdsView } from '../../features/meter.js';
import type { MeterOptions } from '../../features/meter.js';
import { createFeatureSet } from '../../features/registry.js';
import { loadBundleAsync, ModelPipeline, TFJS_ALGOS } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { UNKNOWN } from '../../model/openset.js';
import { SCORE_ROWS_MODULE, ScoreWriter } from '../../model/score-rows.js';
import type { ScoreFormat, ScoreRowOptions, ScoreSummary } from '../../model/score-rows.js';
import { addMeterOptions, extractThreads, MAX_THREADS, meterOptions, readCaptures } from '../inputs.js';
import { applyThresholdOption, THRESHOLD_HELP, thresholdOption } from './evaluate.js';
import { groupDigits } from '../../dataset/format.js';

/** Flows per network call when scoring with a TensorFlow.js model. */
const BATCH_FLOWS = 4096;
/** A partial batch is scored this long after its first flow arrived (ms). */
const BATCH_DELAY_MS = 1000;

/**
 * Whether `score` predicts and writes on a second thread: with a tree model (TensorFlow.js models score in batches on
 * the main thread), `--threads` ≥ 1, or by default as `extract` decides (a second core and captures of at least
 * 32 MiB in all). The features are then computed from the meter's records, predicted and written there.
 * @throws UsageError for a bad `--threads`
 */
function scoreThreaded(o: Record<string, unknown>, captures: readonly string[], batched: boolean): boolean {
  const threads = extractThreads(o, captures);
  return !batched && threads > 0;
}

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
      .option('--threads <n>', `0 = everything on the main thread; 1 or more = tree models predict and write on a second thread while the main one reads packets (at most ${MAX_THREADS}; default: 1 when the machine has a second core and the captures total 32 MiB or more)`)
      .option('-q, --quiet', 'no capture summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    if (o.threshold !== undefined) thresholdOption(o.threshold);
    const modelDir = String(o.model);
    const bundle = await loadBundleAsync(modelDir);
    const set = createFeatureSet();
    const registry = set.features.map((f) => f.name);
    const pipeline = new ModelPipeline(bundle);
    applyThresholdOption(pipeline, o); // the stored alert threshold unless --threshold replaces it
    pipeline.bind(registry); // a model whose features the meter does not compute fails here, on either path
    const all = o.all === true;
    const toFile = o.output !== undefined;
    const format: ScoreFormat = o.json === true ? 'json' : toFile ? 'csv' : 'text';
    // TensorFlow.js models: batches (see the module documentation); trees: one flow at a time.
    const batched = TFJS_ALGOS.includes(bundle.model.algo);
    const threaded = scoreThreaded(o, captures, batched);

    const sink = OutputSink.open(toFile ? String(o.output) : '-');
    let summary: ScoreSummary;
    if (threaded) {
      const meter = meterOptions(o);
      const deferred: MeterOptions = {
        ...meter, deferNumeric: true, deferText: true, shareRecords: true, initialCapacity: sharedTableCapacity(meter.maxFlows ?? Infinity),
      };
      const consumer: ScoreRowOptions = { modelDir, threshold: pipeline.threshold, format, all };
      const writer = new ThreadedFlowCsvWriter(sink, registry, set.textColumns.map((c) => c.name), false, {}, undefined, deferred,
        { consumer: { module: SCORE_ROWS_MODULE, options: consumer, task: 'scoring' } });
      try {
        await readCaptures(captures, o, (flow) => writer.write(flow), deferred);
        summary = await writer.close() as ScoreSummary;
        sink.close();
      } catch (e) {
        await writer.abort();
        sink.abort();
        throw e;
      }
    } else {
      const writer = new ScoreWriter(sink, pipeline, registry, format, all);
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
          writer.emit(view, c.classIndex[i]!, c.probability[i]!, c.distanceRatio ? c.distanceRatio[i]! : null);
        }
        pending = 0;
      };
      try {
        await readCaptures(captures, o, (flow) => {
          if (!batched) {
            writer.write(flow);
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
        });
        if (timerError !== null) throw timerError;
        flush();
        summary = writer.finish();
        sink.close();
      } catch (e) {
        if (timer !== null) clearTimeout(timer);
        sink.abort();
        throw e;
      }
    }
    // One summary line per predicted label; on stderr when stdout carries machine-readable rows.
    const { counts, unknownFrom, total, benignOutside } = summary;
    const flagged = counts.filter(([l]) => l !== BENIGN).reduce((s, [, n]) => s + n, 0);
    const lines = [
      `${groupDigits(total)} flows scored, ${groupDigits(flagged)} flagged (not ${BENIGN})`,
      ...[...counts].sort((a, b) => b[1] - a[1]).map(([l, n]) => `  ${l}: ${groupDigits(n)} flows${l === UNKNOWN ? ` (unlike the training flows of the class the model gave them: ${[...unknownFrom].sort((a, b) => b[1] - a[1]).map(([c, m]) => `${c} ${groupDigits(m)}`).join(', ')})` : ''}`),
      ...(benignOutside > 0 ? [`  (${groupDigits(benignOutside)} ${BENIGN} flows are out of the training distribution: kept ${BENIGN}, low confidence)`] : []),
    ];
    const text = `${lines.join('\n')}\n`;
    if (format === 'text') process.stdout.write(text); else process.stderr.write(text);
  });
}

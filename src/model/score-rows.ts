/**
 * `score`'s output rows: each flow predicted by a model bundle, counted, and reported (the flows not predicted BENIGN,
 * or all with `all`) as CSV, JSON lines or aligned text. The decision rules (alert threshold, open-set guard,
 * confidence) are the CLI's (src/cli/commands/score.ts documents them); this module writes what they decide.
 *
 * The same {@link ScoreWriter} runs on the main thread, or on the formatting thread of a
 * {@link import('../dataset/csv-thread.js').ThreadedFlowCsvWriter} through {@link createRowWriter} (the module is a
 * {@link import('../dataset/csv-thread.js').RowConsumer}): there the flows' features are computed from the meter's
 * records, predicted and written while the main thread meters packets.
 *
 * CSV columns ({@link SCORE_COLUMNS}): CICFlowMeter's identifier columns (Flow ID, Src IP, Src Port, Dst IP, Dst Port,
 * Protocol, Timestamp as ISO 8601 UTC with µs), Prediction (the reported label), Probability (the model's probability
 * of its class), Confidence (probability × the guard's in-distribution confidence; empty without a guard), end_reason
 * (why the flow ended, as in `extract`'s column: `evicted` marks a flow scored early because the flow table was full,
 * on the packets seen until then). JSON lines carry it too, as `end_reason`; the text format does not.
 */
import type { CicIdentifierRow, CsvFlowRow } from '../dataset/csv.js';
import { csvField, writeCicIdentifiers, writeEndReasonCell } from '../dataset/csv.js';
import type { FlowRowWriter } from '../dataset/csv-thread.js';
import { BENIGN } from '../dataset/labels.js';
import type { OutputSink } from '../dataset/output.js';
import { createFeatureSet } from '../features/registry.js';
import { END_REASON_NAMES } from '../flow/table.js';
import { loadBundleAsync, ModelPipeline, TFJS_ALGOS } from './bundle.js';
import type { RowScorer } from './bundle.js';
import { ModelError } from './errors.js';
import { OpenSetGuard, UNKNOWN } from './openset.js';

/** Columns of `score`'s CSV output. */
export const SCORE_COLUMNS = ['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp', 'Prediction', 'Probability', 'Confidence', 'end_reason'] as const;

/** How rows are written: CSV with a header, one JSON object per line, or aligned text for a terminal. */
export type ScoreFormat = 'csv' | 'json' | 'text';

/**
 * A flow as a scored row shows it: a finished flow, or a view of its copied identifiers and features; `reason` is its
 * end reason code (flow/table.ts EndReason).
 */
export type ScoredFlow = CicIdentifierRow & { readonly flowId: string; readonly timestamp: string; readonly reason: number };

/** What a run of {@link ScoreWriter} counted (structured-cloneable). */
export interface ScoreSummary {
  /** Flows scored. */
  total: number;
  /** Flows per reported label, in first-seen order. */
  counts: [string, number][];
  /** UNKNOWN flows per class the model gave them. */
  unknownFrom: [string, number][];
  /** Flows that stayed BENIGN although out of the training distribution (distance ratio > 1). */
  benignOutside: number;
}

/** Writes and counts scored flows (see the module comment). */
export class ScoreWriter implements FlowRowWriter {
  private readonly scorer: RowScorer;
  private readonly proba: Float64Array;
  private readonly counts = new Map<string, number>();
  private readonly unknownFrom = new Map<string, number>();
  private benignOutside = 0;
  private total = 0;

  /**
   * Writes the header (CSV, text) at once.
   * @param inputNames names of the feature vectors rows carry (the registry's, in order)
   * @param all report BENIGN flows too
   * @throws ModelError when the rows lack features the model needs
   */
  constructor(
    private readonly sink: OutputSink, private readonly pipeline: ModelPipeline, inputNames: readonly string[],
    private readonly format: ScoreFormat, private readonly all: boolean,
  ) {
    this.scorer = pipeline.bind(inputNames);
    this.proba = new Float64Array(pipeline.classNames.length);
    if (format === 'csv') sink.write(`${SCORE_COLUMNS.join(',')}\n`);
    else if (format === 'text') {
      sink.write(`${'start (UTC)'.padEnd(27)} ${'proto'.padEnd(5)} ${'initiator'.padEnd(40)} ${'responder'.padEnd(40)} ${'prediction'.padEnd(12)} probability confidence\n`);
    }
  }

  /** Predicts one flow from its features (`row.features` from `row.featureOffset`, in `inputNames` order) and reports it. */
  write(row: CsvFlowRow & ScoredFlow): void {
    const { pipeline, scorer, proba } = this;
    const f = row.features, o = row.featureOffset;
    scorer.predictProbaRow(f, proba, o);
    const best = pipeline.decide(proba);
    const guard = pipeline.openSet;
    // The search is skipped for a pass class (BENIGN) unless the flow is printed: its label cannot change.
    this.emit(row, best, proba[best]!, guard === null || (!this.all && !guard.guards(best)) ? null : scorer.distanceRatioRow(f, best, o));
  }

  /**
   * Reports one flow whose decision is made: `best` the decided class, `p` its probability, `ratio` the guard's
   * distance ratio (null: no guard, or not searched; NaN: not searched in a batch).
   */
  emit(flow: ScoredFlow, best: number, p: number, ratio: number | null): void {
    const { pipeline, sink } = this;
    const modelClass = pipeline.classNames[best]!;
    const label = pipeline.label(best, ratio);
    this.total++;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    if (label === UNKNOWN) this.unknownFrom.set(modelClass, (this.unknownFrom.get(modelClass) ?? 0) + 1);
    else if (label === BENIGN && ratio !== null && ratio > 1) this.benignOutside++;
    if (label === BENIGN && !this.all) return;
    const conf = ratio === null || Number.isNaN(ratio) ? null : p * OpenSetGuard.confidence(ratio);
    if (this.format === 'json') {
      sink.write(`${JSON.stringify({
        flow_id: flow.flowId, src_ip: flow.srcIp, src_port: flow.srcPort, dst_ip: flow.dstIp, dst_port: flow.dstPort,
        protocol: flow.protocol, timestamp: flow.timestamp, prediction: label, probability: p, confidence: conf,
        model_class: modelClass, distance_ratio: conf === null ? null : ratio, end_reason: END_REASON_NAMES[flow.reason] ?? '',
      })}\n`);
    } else if (this.format === 'csv') {
      // Identifiers and numbers as bytes, as extract writes them (the same text as String()).
      writeCicIdentifiers(sink, flow);
      sink.byte(44); sink.write(csvField(label));
      sink.byte(44); sink.number(p);
      sink.byte(44); if (conf !== null) sink.number(conf);
      writeEndReasonCell(sink, flow.reason);
      sink.byte(10);
    } else {
      const a = `${flow.srcIp}:${flow.srcPort}`, b = `${flow.dstIp}:${flow.dstPort}`;
      sink.write(`${flow.timestamp.padEnd(27)} ${String(flow.protocol).padEnd(5)} ${a.padEnd(40)} ${b.padEnd(40)} ${label.padEnd(12)} ${p.toFixed(3).padEnd(11)} ${conf === null ? '-' : conf.toFixed(3)}\n`);
    }
  }

  /** The counts so far. */
  finish(): ScoreSummary {
    return { total: this.total, counts: [...this.counts], unknownFrom: [...this.unknownFrom], benignOutside: this.benignOutside };
  }
}

/** Options of {@link createRowWriter} (structured-cloneable: they cross to the formatting thread). */
export interface ScoreRowOptions {
  /** The model bundle's directory. */
  modelDir: string;
  /** The alert threshold to use (the main thread's, after `--threshold`); null: the most probable class. */
  threshold: number | null;
  format: ScoreFormat;
  all: boolean;
}

/**
 * The {@link import('../dataset/csv-thread.js').RowConsumer} entry: loads the bundle again (on the formatting
 * thread) and returns a {@link ScoreWriter} over the registry's features.
 * @throws ModelError for an unreadable bundle, or a TensorFlow.js model (those score in batches on the main thread)
 */
export async function createRowWriter(sink: OutputSink, options: ScoreRowOptions): Promise<ScoreWriter> {
  const bundle = await loadBundleAsync(options.modelDir);
  if (TFJS_ALGOS.includes(bundle.model.algo)) throw new ModelError(`${bundle.model.algo} models score on the main thread`);
  const pipeline = new ModelPipeline(bundle);
  pipeline.threshold = options.threshold;
  return new ScoreWriter(sink, pipeline, createFeatureSet().features.map((f) => f.name), options.format, options.all);
}

/** URL of this module, for {@link import('../dataset/csv-thread.js').RowConsumer.module}. */
export const SCORE_ROWS_MODULE: string = new URL('./score-rows.js', import.meta.url).href;

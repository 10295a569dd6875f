/**
 * The flow CSV schema written by `flowsift extract`: one row per flow, identifier columns, then the
 * registry's features (CICFlowMeter names and order), then extra annotation columns, then `Label` when
 * labels were given. Numbers are written in JavaScript's shortest round-trip form; text is quoted per
 * RFC 4180 when it holds a comma, quote or line break.
 */
import type { FinishedFlow } from '../features/meter.js';
import { IDENTIFIER_COLUMNS } from '../features/registry.js';
import type { OutputSink } from './output.js';

/** Quotes a CSV field when needed (RFC 4180 §2). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes flows as CSV rows to a sink. */
export class FlowCsvWriter {
  private readonly nFeatures: number;

  /**
   * @param sink where the text goes
   * @param featureNames registry feature names, in the order of `FinishedFlow.features`
   * @param withLabel add a `Label` column
   */
  constructor(private readonly sink: OutputSink, featureNames: readonly string[], private readonly withLabel: boolean) {
    this.nFeatures = featureNames.length;
    const header = [...IDENTIFIER_COLUMNS, ...featureNames, ...(withLabel ? ['Label'] : [])];
    sink.write(`${header.map(csvField).join(',')}\n`);
  }

  /** Writes one flow (and its label when the writer has a Label column). */
  write(flow: FinishedFlow, label?: string): void {
    let line = `${flow.flowId},${flow.srcIp},${flow.srcPort},${flow.dstIp},${flow.dstPort},${flow.protocol},${flow.timestamp}`;
    const f = flow.features;
    for (let i = 0; i < this.nFeatures; i++) line += `,${f[i]}`;
    if (this.withLabel) line += `,${csvField(label ?? '')}`;
    this.sink.write(`${line}\n`);
  }
}

/**
 * The flow CSV schema written by `flowsift extract`: one row per flow, identifier columns, then the
 * registry's numeric features (CICFlowMeter names and order first), then its text columns, then `Label` when
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
  private readonly nText: number;
  /** Reused cell array of one row. */
  private readonly cells: string[];

  /**
   * @param sink where the text goes
   * @param featureNames registry feature names, in the order of `FinishedFlow.features`
   * @param textNames registry text-column names, in the order of `FinishedFlow.text`
   * @param withLabel add a `Label` column
   */
  constructor(
    private readonly sink: OutputSink, featureNames: readonly string[], textNames: readonly string[], private readonly withLabel: boolean,
  ) {
    this.nFeatures = featureNames.length;
    this.nText = textNames.length;
    this.cells = new Array<string>(IDENTIFIER_COLUMNS.length + this.nFeatures + this.nText + (withLabel ? 1 : 0)).fill('');
    const header = [...IDENTIFIER_COLUMNS, ...featureNames, ...textNames, ...(withLabel ? ['Label'] : [])];
    sink.write(`${header.map(csvField).join(',')}\n`);
  }

  /** Writes one flow (and its label when the writer has a Label column). */
  write(flow: FinishedFlow, label?: string): void {
    const cells = this.cells, f = flow.features;
    const src = flow.srcIp, dst = flow.dstIp;
    cells[0] = `${src}-${dst}-${flow.srcPort}-${flow.dstPort}-${flow.protocol}`;
    cells[1] = src;
    cells[2] = String(flow.srcPort);
    cells[3] = dst;
    cells[4] = String(flow.dstPort);
    cells[5] = String(flow.protocol);
    cells[6] = flow.timestamp;
    for (let i = 0; i < this.nFeatures; i++) cells[7 + i] = String(f[i]);
    const t = flow.text, o = 7 + this.nFeatures;
    for (let i = 0; i < this.nText; i++) cells[o + i] = csvField(t[i]);
    if (this.withLabel) cells[o + this.nText] = csvField(label ?? '');
    this.sink.write(cells.join(','));
    this.sink.write('\n');
  }
}

/**
 * Alert rates of a detector, from true and predicted labels: a flow is FLAGGED when its prediction is not
 * BENIGN (any attack class, or ANOMALY for the autoencoder).
 *
 * - False-positive rate (FPR) = flagged BENIGN flows / BENIGN flows, with the classes that fired on them.
 * - Detection rate = flagged attack flows / attack flows (true label not BENIGN), whatever class they were
 *   given; per attack class also its recall (flows predicted as exactly that class / its flows, scikit-learn's
 *   recall), which the detection rate bounds from above.
 *
 * A rate over no flows is null (not defined), never NaN.
 */
import { BENIGN } from '../dataset/labels.js';
import { comparePyStrings } from './pyformat.js';
import { groupDigits } from '../dataset/format.js';

/** Flows, flagged flows and their share for one group of true labels. */
export interface AttackClassRates {
  /** Flows with this true label. */
  flows: number;
  /** Of those, flagged (predicted anything but BENIGN). */
  detected: number;
  /** detected / flows. */
  detectionRate: number;
  /** Of those, predicted as exactly this label. */
  correct: number;
  /** correct / flows (scikit-learn's recall of the class). */
  recall: number;
}

/** {@link alertRates}'s result. */
export interface AlertRates {
  /** True-BENIGN flows. */
  benignFlows: number;
  /** Of those, flagged: the false positives. */
  falsePositives: number;
  /** falsePositives / benignFlows; null without BENIGN flows. */
  fpr: number | null;
  /** Predicted class → count, over the flagged BENIGN flows (sorted by count, then name). */
  fired: Record<string, number>;
  /** Flows whose true label is not BENIGN. */
  attackFlows: number;
  /** Of those, flagged (any class but BENIGN). */
  detected: number;
  /** detected / attackFlows; null without attack flows. */
  detectionRate: number | null;
  /** Per true attack label (sorted as scikit-learn sorts labels). */
  perClass: Record<string, AttackClassRates>;
}

/**
 * Alert rates of predictions `yPred` against true labels `yTrue` (see the module documentation).
 * @param benign the label of ordinary traffic (default BENIGN)
 * @throws RangeError when the arrays differ in length
 */
export function alertRates(yTrue: readonly string[], yPred: readonly string[], benign: string = BENIGN): AlertRates {
  if (yTrue.length !== yPred.length) throw new RangeError(`alertRates: ${yTrue.length} true labels but ${yPred.length} predictions`);
  let benignFlows = 0, falsePositives = 0, attackFlows = 0, detected = 0;
  const fired = new Map<string, number>();
  const per = new Map<string, { flows: number; detected: number; correct: number }>();
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!, p = yPred[i]!;
    const flagged = p !== benign;
    if (t === benign) {
      benignFlows++;
      if (flagged) {
        falsePositives++;
        fired.set(p, (fired.get(p) ?? 0) + 1);
      }
      continue;
    }
    attackFlows++;
    const c = per.get(t) ?? { flows: 0, detected: 0, correct: 0 };
    c.flows++;
    if (flagged) {
      detected++;
      c.detected++;
    }
    if (p === t) c.correct++;
    per.set(t, c);
  }
  return {
    benignFlows,
    falsePositives,
    fpr: benignFlows ? falsePositives / benignFlows : null,
    fired: Object.fromEntries([...fired].sort((a, b) => b[1] - a[1] || comparePyStrings(a[0], b[0]))),
    attackFlows,
    detected,
    detectionRate: attackFlows ? detected / attackFlows : null,
    perClass: Object.fromEntries([...per].sort((a, b) => comparePyStrings(a[0], b[0])).map(([l, c]) => [l, {
      flows: c.flows, detected: c.detected, detectionRate: c.detected / c.flows, correct: c.correct, recall: c.correct / c.flows,
    }])),
  };
}

/** `12/3,456 = 0.0035`: a count ratio and its value with 4 decimals. */
function ratio(num: number, den: number): string {
  return `${groupDigits(num)}/${groupDigits(den)} = ${(num / den).toFixed(4)}`;
}

/**
 * Text lines of {@link alertRates}: `false-positive rate: flagged/flows = x.xxxx` and the classes that fired
 * when there are BENIGN flows; `detection rate: flagged/flows = x.xxxx` and one line per attack class (flows,
 * detection rate, and recall unless `recall` is false — e.g. for an anomaly detector, whose only attack class
 * is ANOMALY) when there are attack flows.
 */
export function formatAlertRates(r: AlertRates, opts: { recall?: boolean } = {}): string[] {
  const lines: string[] = [];
  if (r.benignFlows > 0) {
    lines.push(`false-positive rate: ${ratio(r.falsePositives, r.benignFlows)} (${BENIGN} flows flagged)`);
    const fired = Object.entries(r.fired);
    lines.push(fired.length ? `  fired: ${fired.map(([c, n]) => `${c} ${groupDigits(n)}`).join(', ')}` : '  fired: none');
  }
  if (r.attackFlows > 0) {
    lines.push(`detection rate: ${ratio(r.detected, r.attackFlows)} (attack flows flagged as any attack class)`);
    const per = Object.entries(r.perClass);
    const width = Math.max(...per.map(([l]) => l.length));
    for (const [l, c] of per) {
      lines.push(`  ${l.padEnd(width)}  ${groupDigits(c.flows).padStart(9)} flows  detected ${c.detectionRate.toFixed(4)}${opts.recall === false ? '' : `  recall ${c.recall.toFixed(4)}`}`);
    }
  }
  return lines;
}

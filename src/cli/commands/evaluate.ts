/** `flowsift evaluate CAPTURE... --labels FILE --model DIR [--json]`: classification report + confusion matrix. */
import type { Command } from 'commander';
import { classificationMetrics, classificationReport } from '../../eval/report.js';
import { confusionMatrix, formatConfusionMatrix } from '../../eval/confusion.js';
import { loadBundle, ModelPipeline } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { UsageError } from '../errors.js';
import { addMeterOptions, collectRecords, labellerFrom } from '../inputs.js';

export function registerEvaluate(program: Command): void {
  addMeterOptions(
    program.command('evaluate')
      .description('predict the flows of labelled captures with a model; print scikit-learn\'s classification report and a confusion matrix')
      .argument('<capture...>', 'labelled test captures (not the training ones)')
      .requiredOption('--model <dir>', 'model bundle directory')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--label <name>', 'every flow has this true label')
      .option('--digits <n>', 'digits in the report', '2')
      .option('--json', 'print one JSON object {accuracy, macro_f1, weighted_f1, classes, confusion_matrix}')
      .option('-q, --quiet', 'no capture summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const labeller = labellerFrom(o, true)!;
    const digits = Number(o.digits);
    if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new UsageError(`--digits must be an integer 0..15, got '${String(o.digits)}'`);
    const bundle = loadBundle(String(o.model));
    const records = await collectRecords(captures, o, labeller);
    if (records.rows === 0) throw new UsageError('the captures hold no IP flow to evaluate');
    const X = createMatrix(records.rows, records.names.length, [...records.names], records.data.subarray(0, records.rows * records.names.length));
    const pred = new ModelPipeline(bundle).predict(X);
    const yPred = Array.from(pred, (k) => bundle.classNames[k]);
    const yTrue = records.labels;
    if (o.json) {
      const m = classificationMetrics(yTrue, yPred);
      process.stdout.write(`${JSON.stringify({
        accuracy: m.accuracy, macro_f1: m.macro_f1, weighted_f1: m.weighted_f1, classes: m.classes,
        confusion_matrix: m.confusion_matrix, flows: records.rows, model: String(o.model),
      })}\n`);
      return;
    }
    process.stdout.write(classificationReport(yTrue, yPred, { digits }));
    const cm = formatConfusionMatrix(confusionMatrix(yTrue, yPred));
    process.stdout.write(`\n${cm}${cm.endsWith('\n') ? '' : '\n'}`);
  });
}
